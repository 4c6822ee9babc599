//! vpiv — a software PIV card for TESTS ONLY.
//!
//! Runs Nitrokey's `piv-authenticator` (crates.io 0.7.0) on trussed's software platform and
//! presents it to pcscd through vsmartcard's `vpcd` driver, so the real `yubikey` crate code
//! (PC/SC, APDUs, management-key authentication, PIN handling) can be exercised without a
//! device. Three shims make the card look enough like a YubiKey for the `yubikey` crate:
//!
//! 1. SELECT with the 5-byte PIV RID (what the crate sends) is widened to the full 11-byte
//!    PIV AID, which is the shortest piv-authenticator accepts;
//! 2. GET VERSION (INS FD) and GET SERIAL (INS F8) are answered here, with the version and
//!    serial given on the command line, so one test can present several distinct
//!    "YubiKeys" one at a time (piv-authenticator itself says 6.6.6 and a fixed serial);
//! 3. responses are cut into 256-byte pieces with `61xx` / GET RESPONSE only when the
//!    caller asked for less (an absent Le gets up to 256 bytes), and command chaining
//!    (CLA bit 0x10) is reassembled before the application sees the command;
//! 4. SELECT and a card reset clear the PIN-verified state, as on a YubiKey (the crate
//!    re-selects to read the retry counter without the PIN counting as verified).
//!
//! NEVER USE THIS FOR REAL KEYS: the "hardware" random generator is a ChaCha8 stream seeded
//! from the serial number (deterministic on purpose), and the key material sits in plain
//! files or RAM.
//!
//! What this card cannot do (so tests cannot show it): attestation (INS F9 answers 6A81),
//! the F9 device certificate, GET METADATA for slot 9C, AES management keys (only 3DES and
//! AES-256; we report firmware 5.4.3 so the crate picks the 3DES default), Ed25519, and
//! enforcement of PIN or touch policies (the policy tags are ignored at key generation).
//! It also keeps the management-key-authenticated state across SELECT and card resets,
//! which a real card clears.
//!
//! Usage: `vpiv [--serial N] [--version X.Y.Z] [--state DIR] [--port P]`
//! (`VPIV_SERIAL` is read when `--serial` is absent). With `--state DIR` the card's flash
//! lives in `DIR/<serial>.internal` and `DIR/<serial>.external` and survives restarts, so a
//! test can take a "token" out and plug it back in later.

use piv_authenticator::{Authenticator, Options};
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use std::path::PathBuf;
use trussed::backend::BackendId;
use trussed::pipe::TrussedChannel;
use trussed::serde_extensions::{ExtensionDispatch, ExtensionId, ExtensionImpl};
use trussed::service::ServiceResources;
use trussed::types::{Context, CoreContext};
use trussed::virt::{Runner, StorageConfig, StoreConfig, UserInterface};
use trussed::{ClientImplementation, Platform};
use trussed_auth::AuthExtension;
use trussed_auth_backend::{AuthBackend, AuthContext, FilesystemLayout};
use trussed_chunked::ChunkedExtension;
use trussed_core::api::{reply, request, Reply, Request};
use trussed_core::types::Location;
use trussed_core::Error;
use trussed_hpke::HpkeExtension;
use trussed_staging::{StagingBackend, StagingContext};
use trussed_wrap_key_to_file::WrapKeyToFileExtension;
use vpicc::VSmartCard;

/// The largest command or response the card handles (as apdu-dispatch on the devices).
const APDU_MAX: usize = 7609;
/// The full PIV application identifier (NIST SP 800-73-4).
const PIV_AID_FULL: [u8; 11] = [0xA0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00];
/// The 5-byte RID the `yubikey` crate selects with.
const PIV_RID: [u8; 5] = [0xA0, 0x00, 0x00, 0x03, 0x08];

// ------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------

struct Args {
    serial: u32,
    version: [u8; 3],
    state: Option<PathBuf>,
    port: u16,
}

fn usage(msg: &str) -> ! {
    eprintln!("vpiv: {msg}\nusage: vpiv [--serial N] [--version X.Y.Z] [--state DIR] [--port P]");
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args { serial: 0x0052_F743, version: [5, 4, 3], state: None, port: vpicc::DEFAULT_PORT };
    if let Ok(s) = std::env::var("VPIV_SERIAL") {
        args.serial = s.parse().unwrap_or_else(|_| usage("VPIV_SERIAL is not a number"));
    }
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut val = || it.next().unwrap_or_else(|| usage(&format!("{a} needs a value")));
        match a.as_str() {
            "--serial" => args.serial = val().parse().unwrap_or_else(|_| usage("--serial is not a number")),
            "--version" => {
                let v = val();
                let parts: Vec<u8> = v.split('.').filter_map(|p| p.parse().ok()).collect();
                if parts.len() != 3 {
                    usage("--version must be X.Y.Z");
                }
                args.version = [parts[0], parts[1], parts[2]];
            }
            "--state" => args.state = Some(PathBuf::from(val())),
            "--port" => args.port = val().parse().unwrap_or_else(|_| usage("--port is not a number")),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    args
}

// ------------------------------------------------------------------------------------
// Trussed platform with a per-serial seed and the extension back ends piv-authenticator needs
// ------------------------------------------------------------------------------------

/// trussed's own virt platform always seeds its RNG with the same constant, so every
/// virtual card would generate the same keys. This one derives the seed from the serial.
struct SeededPlatform<'a> {
    rng: ChaCha8Rng,
    store: trussed::virt::Store<'a>,
    ui: UserInterface,
}

impl<'a> Platform for SeededPlatform<'a> {
    type R = ChaCha8Rng;
    type S = trussed::virt::Store<'a>;
    type UI = UserInterface;
    fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }
    fn store(&self) -> Self::S {
        self.store
    }
    fn user_interface(&mut self) -> &mut UserInterface {
        &mut self.ui
    }
}

fn seed_for(serial: u32) -> [u8; 32] {
    let mut seed = *b"vpiv TEST-ONLY deterministic rng";
    for (i, b) in serial.to_be_bytes().iter().enumerate() {
        seed[i] ^= b;
        seed[28 + i] ^= b.rotate_left(3);
    }
    seed
}

/// Which custom back end a client may use.
enum Backends {
    Staging,
    Auth,
}

/// The extensions piv-authenticator calls, with the ids its client uses for them.
enum Extensions {
    Chunked,
    WrapKeyToFile,
    Hpke,
    Auth,
}

impl From<Extensions> for u8 {
    fn from(e: Extensions) -> u8 {
        match e {
            Extensions::Chunked => 1,
            Extensions::WrapKeyToFile => 2,
            Extensions::Hpke => 3,
            Extensions::Auth => 4,
        }
    }
}

impl TryFrom<u8> for Extensions {
    type Error = Error;
    fn try_from(v: u8) -> Result<Self, Error> {
        Ok(match v {
            1 => Extensions::Chunked,
            2 => Extensions::WrapKeyToFile,
            3 => Extensions::Hpke,
            4 => Extensions::Auth,
            _ => return Err(Error::FunctionNotSupported),
        })
    }
}

struct Dispatcher {
    staging: StagingBackend,
    auth: AuthBackend,
}

#[derive(Default)]
struct DispatchContext {
    staging: StagingContext,
    auth: AuthContext,
}

impl ExtensionId<ChunkedExtension> for Dispatcher {
    type Id = Extensions;
    const ID: Extensions = Extensions::Chunked;
}
impl ExtensionId<WrapKeyToFileExtension> for Dispatcher {
    type Id = Extensions;
    const ID: Extensions = Extensions::WrapKeyToFile;
}
impl ExtensionId<HpkeExtension> for Dispatcher {
    type Id = Extensions;
    const ID: Extensions = Extensions::Hpke;
}
impl ExtensionId<AuthExtension> for Dispatcher {
    type Id = Extensions;
    const ID: Extensions = Extensions::Auth;
}

impl ExtensionDispatch for Dispatcher {
    type BackendId = Backends;
    type Context = DispatchContext;
    type ExtensionId = Extensions;

    fn core_request<P: Platform>(
        &mut self,
        backend: &Backends,
        ctx: &mut Context<DispatchContext>,
        request: &Request,
        resources: &mut ServiceResources<P>,
    ) -> Result<Reply, Error> {
        use trussed::backend::Backend as _;
        match backend {
            Backends::Staging => self.staging.request(&mut ctx.core, &mut ctx.backends.staging, request, resources),
            Backends::Auth => Err(Error::RequestNotAvailable),
        }
    }

    fn extension_request<P: Platform>(
        &mut self,
        backend: &Backends,
        extension: &Extensions,
        ctx: &mut Context<DispatchContext>,
        request: &request::SerdeExtension,
        resources: &mut ServiceResources<P>,
    ) -> Result<reply::SerdeExtension, Error> {
        let core: &mut CoreContext = &mut ctx.core;
        let staging = &mut ctx.backends.staging;
        match (backend, extension) {
            (Backends::Staging, Extensions::Chunked) => {
                ExtensionImpl::<ChunkedExtension>::extension_request_serialized(&mut self.staging, core, staging, request, resources)
            }
            (Backends::Staging, Extensions::WrapKeyToFile) => {
                ExtensionImpl::<WrapKeyToFileExtension>::extension_request_serialized(&mut self.staging, core, staging, request, resources)
            }
            (Backends::Staging, Extensions::Hpke) => {
                ExtensionImpl::<HpkeExtension>::extension_request_serialized(&mut self.staging, core, staging, request, resources)
            }
            (Backends::Auth, Extensions::Auth) => {
                ExtensionImpl::<AuthExtension>::extension_request_serialized(&mut self.auth, core, &mut ctx.backends.auth, request, resources)
            }
            _ => Err(Error::RequestNotAvailable),
        }
    }
}

static CLIENT_BACKENDS: &[BackendId<Backends>] = &[BackendId::Custom(Backends::Staging), BackendId::Custom(Backends::Auth), BackendId::Core];

// ------------------------------------------------------------------------------------
// The card as vpcd sees it, with the YubiKey shims
// ------------------------------------------------------------------------------------

struct ShimCard<T: piv_authenticator::Client> {
    piv: Authenticator<T>,
    serial: u32,
    version: [u8; 3],
    /// A chained command being reassembled (CLA bit 0x10).
    chain: Option<iso7816::Command<APDU_MAX>>,
    /// Response bytes not yet fetched with GET RESPONSE.
    pending: Vec<u8>,
}

fn sw(code: u16) -> Vec<u8> {
    code.to_be_bytes().to_vec()
}

/// `data` followed by 9000, or its first `max` bytes followed by 61xx (the rest kept).
fn respond_in_pieces(data: Vec<u8>, max: usize, pending: &mut Vec<u8>) -> Vec<u8> {
    if data.len() <= max {
        pending.clear();
        let mut out = data;
        out.extend_from_slice(&[0x90, 0x00]);
        return out;
    }
    let mut out = data[..max].to_vec();
    *pending = data[max..].to_vec();
    out.extend_from_slice(&[0x61, pending.len().min(256) as u8]);
    out
}

/// Le as a piece size: absent (0) or above 256 means 256.
fn piece_size(le: usize) -> usize {
    if le == 0 || le > 256 {
        256
    } else {
        le
    }
}

impl<T: piv_authenticator::Client> ShimCard<T> {
    fn clear_session(&mut self) {
        self.chain = None;
        self.pending.clear();
        self.logout();
    }

    /// VERIFY with P1=FF (PIV "reset the PIN's security status").
    fn logout(&mut self) {
        if let Ok(cmd) = iso7816::Command::<16>::try_from(&[0x00, 0x20, 0xFF, 0x80][..]) {
            let mut scratch = heapless::Vec::<u8, 16>::new();
            let _ = self.piv.respond(cmd.as_view(), scratch.as_mut_view());
        }
    }

    fn handle(&mut self, apdu: &[u8]) -> Vec<u8> {
        if apdu.len() < 4 {
            return sw(0x6700);
        }
        let (cla, ins, p1) = (apdu[0], apdu[1], apdu[2]);

        // GET RESPONSE: hand out what is left of the previous answer.
        if ins == 0xC0 {
            if self.pending.is_empty() {
                return sw(0x6985);
            }
            let le = if apdu.len() == 5 { usize::from(apdu[4]) } else { 0 };
            let rest = std::mem::take(&mut self.pending);
            return respond_in_pieces(rest, piece_size(le), &mut self.pending);
        }
        self.pending.clear();

        // Shim 2: the YubiKey version and serial extensions.
        if ins == 0xFD && self.chain.is_none() {
            return respond_in_pieces(self.version.to_vec(), 256, &mut self.pending);
        }
        if ins == 0xF8 && self.chain.is_none() {
            return respond_in_pieces(self.serial.to_be_bytes().to_vec(), 256, &mut self.pending);
        }

        // Shim 1: widen SELECT by the 5-byte RID to the full PIV AID.
        let widened;
        let apdu = if ins == 0xA4 && p1 == 0x04 && apdu.len() >= 10 && apdu[4] == 5 && apdu[5..10] == PIV_RID {
            let mut v = vec![cla, ins, p1, apdu[3], PIV_AID_FULL.len() as u8];
            v.extend_from_slice(&PIV_AID_FULL);
            v.push(0x00);
            widened = v;
            &widened[..]
        } else {
            apdu
        };

        let command = match iso7816::Command::<APDU_MAX>::try_from(apdu) {
            Ok(c) => c,
            Err(_) => return sw(0x6700),
        };

        // Shim 3a: reassemble chained commands.
        if cla & 0x10 != 0 {
            match &mut self.chain {
                None => self.chain = Some(command),
                Some(c) => {
                    if c.extend_from_command_view(command.as_view()).is_err() {
                        self.chain = None;
                        return sw(0x6700);
                    }
                }
            }
            return sw(0x9000);
        }
        let command = match self.chain.take() {
            None => command,
            Some(mut c) => {
                if c.extend_from_command_view(command.as_view()).is_err() {
                    return sw(0x6700);
                }
                c
            }
        };

        let view = command.as_view();
        let mut reply = heapless::Vec::<u8, APDU_MAX>::new();
        let result = self.piv.respond(view, reply.as_mut_view());
        // Shim 4: selecting the application resets its PIN verification, as on a YubiKey
        // (the `yubikey` crate re-selects to read the PIN retry counter).
        if ins == 0xA4 && result.is_ok() {
            self.logout();
        }
        match result {
            // Shim 3b: at most Le (absent: 256) bytes at a time.
            Ok(()) => respond_in_pieces(reply.to_vec(), piece_size(view.expected()), &mut self.pending),
            Err(status) => sw(status.into()),
        }
    }
}

impl<T: piv_authenticator::Client> VSmartCard for ShimCard<T> {
    fn power_on(&mut self) {
        self.clear_session();
    }
    fn power_off(&mut self) {
        self.clear_session();
    }
    fn reset(&mut self) {
        self.clear_session();
    }
    fn execute(&mut self, msg: &[u8]) -> Vec<u8> {
        self.handle(msg)
    }
}

fn main() {
    let args = parse_args();
    let mut store = match &args.state {
        None => StoreConfig::ram(),
        Some(dir) => {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| usage(&format!("cannot create {}: {e}", dir.display())));
            StoreConfig {
                internal: StorageConfig::filesystem(dir.join(format!("{}.internal", args.serial))),
                external: StorageConfig::filesystem(dir.join(format!("{}.external", args.serial))),
                volatile: StorageConfig::ram(),
            }
        }
    };
    let mut connection = match vpicc::connect_socket(std::net::SocketAddr::from(([127, 0, 0, 1], args.port))) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vpiv: cannot reach vpcd on 127.0.0.1:{} ({e}); is pcscd running with the vpcd driver?", args.port);
            std::process::exit(1);
        }
    };
    eprintln!(
        "vpiv: TEST-ONLY virtual PIV card, serial {} version {}.{}.{}, on vpcd port {}",
        args.serial, args.version[0], args.version[1], args.version[2], args.port
    );
    let result = store.with_store(|store| {
        let platform = SeededPlatform { rng: ChaCha8Rng::from_seed(seed_for(args.serial)), store, ui: UserInterface::new() };
        let dispatcher = Dispatcher { staging: StagingBackend::new(), auth: AuthBackend::new(Location::Internal, FilesystemLayout::V0) };
        let channel = TrussedChannel::new();
        let (requester, responder) = channel.split().expect("fresh channel");
        let mut runner: Runner<'_, Backends, DispatchContext> = Runner::new();
        runner.add_endpoint(responder, "piv", CLIENT_BACKENDS);
        let client: ClientImplementation<'_, _, Dispatcher> = ClientImplementation::new(requester, runner.syscall(), None);
        runner.run(platform, dispatcher, || {
            let mut card =
                ShimCard { piv: Authenticator::new(client, Options::default()), serial: args.serial, version: args.version, chain: None, pending: Vec::new() };
            loop {
                if let Err(e) = connection.poll(&mut card) {
                    return e;
                }
            }
        })
    });
    // vpcd closed the connection (pcscd stopped) or the socket failed.
    eprintln!("vpiv: connection ended: {result}");
}
