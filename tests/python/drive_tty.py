#!/usr/bin/env python3
"""Drives an interactive program through a real pseudo-terminal, like a person would.

Standard library only (pty, os, select, termios, json): no pexpect.

The scenario is read as JSON from stdin (never from a file or argv, because it holds the
passphrases the "person" types):

    {
      "argv": ["/path/to/tuf-ceremony", "rehearse", "--out", "DIR"],
      "env": {"NAME": "value"},          # added to the inherited environment (optional)
      "cwd": "/some/dir",                 # optional
      "log": "/path/session.log",         # the full raw session output is written here
      "timeout": 60,                      # seconds, per step (a step may override it)
      "steps": [
        {"expect": "[y/n]", "send": "y"},
        {"expect": "Press Enter", "send": ""},
        {"expect": "New passphrase", "send": "...", "secret": true},
        {"expect": "Press Enter", "eof": true}
      ]
    }

Each step waits (up to its timeout) until `expect` appears in the output after the
previous match, then types `send` followed by Enter (a carriage return, as a keyboard
sends it). For a `secret` step the driver first waits until the terminal's ECHO flag is
off, as a person would wait for the hidden-input prompt, so a too-fast typist cannot make
the terminal echo a passphrase. `eof` types Ctrl-D instead (closing the input);
`interrupt` types Ctrl-C (the terminal sends SIGINT to the program).
A step without `send`/`eof` only waits for the text.

After the last step the driver waits for the program to exit (same timeout), then prints
one JSON line on stdout: {"exit": code or null, "signal": number or null, "steps": n}.

On a timeout it prints which step was waiting, the last 2 KB of output to stderr, kills the
program and exits 3. Driver errors exit 4.
"""

import json
import os
import pty
import select
import signal
import sys
import termios
import time

TAIL = 2048


class Session:
    def __init__(self, argv, env, cwd, log_path):
        self.out = bytearray()
        self.cursor = 0
        self.eof = False
        self.log = open(log_path, "wb") if log_path else None
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty slave is our controlling terminal and stdio
            try:
                if cwd:
                    os.chdir(cwd)
                full_env = dict(os.environ)
                full_env.update(env or {})
                full_env.setdefault("TERM", "dumb")
                os.execvpe(argv[0], argv, full_env)
            except BaseException as e:  # noqa: BLE001 - report anything, then die
                os.write(2, f"drive_tty: cannot exec {argv[0]}: {e}\n".encode())
            os._exit(127)
        self.pid = pid
        self.fd = fd
        self.status = None

    def _read(self, wait):
        """Reads what is available within `wait` seconds; returns False at EOF."""
        if self.eof:
            return False
        r, _, _ = select.select([self.fd], [], [], max(0.0, wait))
        if not r:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: the slave side is closed (program exited)
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.out += chunk
        if self.log:
            self.log.write(chunk)
            self.log.flush()
        return True

    def expect(self, text, timeout):
        needle = text.encode()
        deadline = time.monotonic() + timeout
        while True:
            i = self.out.find(needle, self.cursor)
            if i >= 0:
                self.cursor = i + len(needle)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(f"timed out after {timeout}s waiting for {text!r}")
            if not self._read(min(left, 0.5)) and self.out.find(needle, self.cursor) < 0:
                raise Timeout(f"the program ended while waiting for {text!r}")

    def wait_echo_off(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                lflag = termios.tcgetattr(self.fd)[3]
            except termios.error as e:
                raise Timeout(f"cannot read terminal flags: {e}")
            if not lflag & termios.ECHO:
                return
            if time.monotonic() > deadline:
                raise Timeout(f"terminal echo still on {timeout}s after a secret prompt: the secret would be shown")
            self._read(0.02)

    def type(self, data):
        os.write(self.fd, data)

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.eof and time.monotonic() < deadline:
            self._read(min(0.5, max(0.0, deadline - time.monotonic())))
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = status
                return
            self._read(0.05)
        raise Timeout(f"the program did not exit within {timeout}s")

    def echo_on(self):
        """Whether the terminal echoes input now (None if it cannot be read)."""
        try:
            return bool(termios.tcgetattr(self.fd)[3] & termios.ECHO)
        except termios.error:
            return None

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass

    def tail(self):
        return bytes(self.out[-TAIL:]).decode("utf-8", "replace")


class Timeout(Exception):
    pass


def main():
    try:
        sc = json.load(sys.stdin)
        argv = sc["argv"]
        default_timeout = float(sc.get("timeout", 60))
        steps = sc.get("steps", [])
    except (ValueError, KeyError, TypeError) as e:
        print(f"drive_tty: bad scenario: {e}", file=sys.stderr)
        return 4
    s = Session(argv, sc.get("env"), sc.get("cwd"), sc.get("log"))
    n = 0
    try:
        for n, step in enumerate(steps, 1):
            timeout = float(step.get("timeout", default_timeout))
            if "expect" in step:
                s.expect(step["expect"], timeout)
            if step.get("eof"):
                s.type(b"\x04")
            elif step.get("interrupt"):
                if step.get("secret"):
                    s.wait_echo_off(timeout)
                s.type(b"\x03")
            elif "send" in step:
                if step.get("secret"):
                    s.wait_echo_off(timeout)
                s.type(step["send"].encode() + b"\r")
        s.wait_exit(default_timeout)
    except Timeout as e:
        note = steps[n - 1].get("note", "") if 0 < n <= len(steps) else ""
        print(f"drive_tty: step {n}/{len(steps)} {note}: {e}", file=sys.stderr)
        print(f"---- last {TAIL} bytes of the session output ----\n{s.tail()}\n---- end ----", file=sys.stderr)
        s.kill()
        return 3
    finally:
        if s.log:
            s.log.close()
    st = s.status
    res = {
        "exit": os.WEXITSTATUS(st) if os.WIFEXITED(st) else None,
        "signal": os.WTERMSIG(st) if os.WIFSIGNALED(st) else None,
        "steps": len(steps),
        "echo": s.echo_on(),
    }
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
