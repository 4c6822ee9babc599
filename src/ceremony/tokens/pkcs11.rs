//! PKCS#11 tokens (HSMs): the keyholder's module path, token serial and/or label come from
//! the plan. Provisioning picks exactly one token, refuses tokens in a "deadly" state (a PIN
//! on its final try or locked, or the token's error state), offers to initialise a blank
//! token only after the operator types INITIALIZE, and finds the keyholder's key or
//! generates it on the token — never a second one. PIN entry re-prompts on a wrong PIN but
//! stops before a lockout.
//!
//! Modules are loaded once per process and kept (`signer::pkcs11::module`).

use super::{Peek, TokenBackend, TokenError, TokenKey};
use crate::ceremony::plan::Keyholder;
use crate::ceremony::ui::{SecretKind, Ui};
use crate::signer::pkcs11::{self as p11, TokenSlot, TokenState};
use crate::signer::{Signer, SignerError};
use cryptoki::context::Pkcs11;
use cryptoki::session::{Session, UserType};
use std::path::Path;
use zeroize::Zeroizing;

/// Wrong PINs accepted in a row before stopping, whatever the token reports. Smart-card
/// HSMs commonly lock after 3; stopping after 2 leaves one try even on a token that does
/// not report CKF_USER_PIN_FINAL_TRY (which is checked before every attempt as well).
pub const MAX_WRONG_PINS: u32 = 2;

/// How many times a new PIN may be entered badly (too short, the two entries differ).
const MAX_NEW_PIN_ROUNDS: u32 = 5;

/// The PKCS#11 back end. Stateless: loaded modules are kept process-wide.
#[derive(Default)]
pub struct Pkcs11Tokens;

fn refused(s: impl Into<String>) -> TokenError {
    TokenError::Refused(s.into())
}

fn module_of(holder: &Keyholder) -> Result<(&Path, Pkcs11), TokenError> {
    let path = holder.module.as_deref().ok_or_else(|| refused(format!("{}: a pkcs11 keyholder needs the module path in the plan", holder.name)))?;
    Ok((path, p11::module(path)?))
}

fn listing(tokens: &[TokenSlot]) -> String {
    if tokens.is_empty() {
        return "  (no token present)".to_string();
    }
    tokens.iter().map(|t| format!("  slot {}: {}", t.slot.id(), t.state.describe())).collect::<Vec<_>>().join("\n")
}

fn criteria(holder: &Keyholder, serial: Option<&str>) -> String {
    let mut c = Vec::new();
    if let Some(s) = serial {
        c.push(format!("serial {s}"));
    }
    if let Some(l) = &holder.token_label {
        c.push(format!("label {l:?}"));
    }
    if c.is_empty() { "any token (the plan names no serial or label)".into() } else { c.join(" and ") }
}

enum Selected {
    Ready(TokenSlot),
    Blank(TokenSlot),
}

/// Picks the one token for `holder`: initialised tokens matching the serial (plan, else the
/// one recorded at key generation) and the label; else, when `allow_blank`, the one blank
/// token (matching the serial if one is expected).
fn select(ctx: &Pkcs11, holder: &Keyholder, serial: Option<&str>, allow_blank: bool) -> Result<Selected, TokenError> {
    let all = p11::list_tokens(ctx)?;
    let serial_ok = |t: &TokenState| serial.is_none_or(|s| t.serial == s);
    let label_ok = |t: &TokenState| holder.token_label.as_deref().is_none_or(|l| t.label == l);
    let ready: Vec<&TokenSlot> = all.iter().filter(|t| t.state.initialized && serial_ok(&t.state) && label_ok(&t.state)).collect();
    let want = criteria(holder, serial);
    match ready.as_slice() {
        [one] => return Ok(Selected::Ready((*one).clone())),
        [] => {}
        many => {
            return Err(refused(format!(
                "{} tokens match {want} for {}; connect only {}'s token or name its serial in the plan. Present:\n{}",
                many.len(),
                holder.name,
                holder.name,
                listing(&all)
            )));
        }
    }
    let blank: Vec<&TokenSlot> = all.iter().filter(|t| !t.state.initialized && serial_ok(&t.state)).collect();
    match blank.as_slice() {
        [one] if allow_blank => Ok(Selected::Blank((*one).clone())),
        [_, _, ..] if allow_blank => Err(refused(format!(
            "no initialised token matches {want} for {}, and {} blank tokens are present; connect only the one to initialise. Present:\n{}",
            holder.name,
            blank.len(),
            listing(&all)
        ))),
        _ => Err(TokenError::Signer(SignerError::NotFound(format!(
            "no token matching {want} for {} in {}. Present:\n{}",
            holder.name,
            holder.module.as_deref().map(|p| p.display().to_string()).unwrap_or_default(),
            listing(&all)
        )))),
    }
}

fn check_state(state: &TokenState, ui: &mut dyn Ui) -> Result<(), TokenError> {
    if let Some(why) = state.refusal() {
        return Err(refused(why));
    }
    for w in state.warnings() {
        ui.show(&format!("Warning: {w}."));
    }
    Ok(())
}

/// Asks a new PIN twice (`SecretKind::New`) within the token's length bounds.
fn new_pin(ui: &mut dyn Ui, holder: &str, what: &str, st: &TokenState) -> Result<Zeroizing<String>, TokenError> {
    let min = st.min_pin_len.max(6);
    let max = if st.max_pin_len == 0 { 255 } else { st.max_pin_len };
    for _ in 0..MAX_NEW_PIN_ROUNDS {
        let a = ui.secret(holder, SecretKind::New, &format!("New {what} for {holder}'s token ({min} to {max} characters, from the dice):"))?;
        let n = a.chars().count();
        if n < min || n > max {
            ui.show(&format!("The {what} must have {min} to {max} characters; try again."));
            continue;
        }
        let b = ui.secret(holder, SecretKind::New, &format!("Repeat the new {what}:"))?;
        if *a == *b {
            return Ok(a);
        }
        ui.show("The two entries differ; try again.");
    }
    Err(refused(format!("no valid {what} entered for {holder}'s token")))
}

/// Logs `session` in as `user`, re-prompting on a wrong PIN. Before each attempt the token's
/// flags are read again: a PIN on its final try or locked stops here, and the count-low
/// state is shown. At most `MAX_WRONG_PINS` wrong entries in a row.
fn login_loop(ctx: &Pkcs11, slot: &TokenSlot, session: &Session, holder: &str, user: UserType, ui: &mut dyn Ui) -> Result<(), TokenError> {
    let (what, kind) = match user {
        UserType::So => ("SO PIN", SecretKind::Admin),
        _ => ("user PIN", SecretKind::Unlock),
    };
    let mut wrong = 0;
    loop {
        let st = p11::token_state(ctx, slot.slot)?;
        if let Some(why) = st.refusal() {
            return Err(refused(why));
        }
        let low = match user {
            UserType::So => st.so_pin_count_low,
            _ => st.user_pin_count_low,
        };
        let note = if low { " [the token reports its retry counter is low (count low): earlier wrong entries]" } else { "" };
        let result = if st.protected_auth_path {
            ui.wait(&format!("Enter the {what} for {holder}'s token on the reader's PIN pad{note}."))?;
            p11::login(session, user, None)
        } else {
            let pin = ui.secret(holder, kind.clone(), &format!("{what} for {holder}'s token (serial {}){note}:", st.serial))?;
            p11::login(session, user, Some(pin.as_str()))
        };
        match result {
            Ok(()) => return Ok(()),
            Err(SignerError::WrongPin { .. }) => {
                wrong += 1;
                let after = p11::token_state(ctx, slot.slot)?;
                if let Some(why) = after.refusal() {
                    return Err(refused(format!("wrong {what}; {why}")));
                }
                if wrong >= MAX_WRONG_PINS {
                    return Err(refused(format!(
                        "{wrong} wrong {what} entries in a row for {holder}'s token: stopping before the token locks. Check the PIN sheet sealed with the token; the token's counter resets only after a correct entry"
                    )));
                }
                let low = match user {
                    UserType::So => after.so_pin_count_low,
                    _ => after.user_pin_count_low,
                };
                ui.show(&format!(
                    "Wrong {what}.{} Try again ({} more wrong entr{} and this tool stops).",
                    if low { " The token reports its retry counter is low (count low)." } else { "" },
                    MAX_WRONG_PINS - wrong,
                    if MAX_WRONG_PINS - wrong == 1 { "y" } else { "ies" }
                ));
            }
            Err(SignerError::PinBlocked) => return Err(refused(format!("the {what} of {holder}'s token is locked"))),
            Err(e) => return Err(e.into()),
        }
    }
}

fn open_session(ctx: &Pkcs11, slot: &TokenSlot, rw: bool) -> Result<Session, TokenError> {
    let r = if rw { ctx.open_rw_session(slot.slot) } else { ctx.open_ro_session(slot.slot) };
    r.map_err(|e| TokenError::Signer(SignerError::Device(format!("C_OpenSession: {e}"))))
}

/// The token label to give a blank token: the plan's, else `tuf-ceremony <name>`, at most 32 bytes.
fn new_token_label(holder: &Keyholder) -> String {
    let mut l = holder.token_label.clone().unwrap_or_else(|| format!("tuf-ceremony {}", holder.name));
    while l.len() > 32 {
        l.pop();
    }
    l
}

/// Initialises a blank token after the operator types INITIALIZE: new SO PIN and user PIN,
/// each entered twice. Returns the token as the module lists it afterwards (SoftHSM moves
/// it to a new slot).
fn initialise(ctx: &Pkcs11, blank: &TokenSlot, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenSlot, TokenError> {
    check_state(&blank.state, ui)?;
    let label = new_token_label(holder);
    ui.show(&format!(
        "{}'s token is blank: slot {}, {}.\nTokens present:\n{}",
        holder.name,
        blank.slot.id(),
        blank.state.describe(),
        listing(&p11::list_tokens(ctx)?)
    ));
    let q = format!(
        "Initialise the blank token in slot {} as {label:?} for {}? This sets a new SO PIN and user PIN; anything on the token is erased.",
        blank.slot.id(),
        holder.name
    );
    if !ui.confirm_word(&q, "INITIALIZE")? {
        return Err(refused(format!("{}'s token was not initialised (the operator did not type INITIALIZE)", holder.name)));
    }
    ui.show("Roll the dice for the SO PIN and the user PIN now; write each on its own sheet.");
    let so = new_pin(ui, &holder.name, "SO PIN", &blank.state)?;
    let user = new_pin(ui, &holder.name, "user PIN", &blank.state)?;
    if *so == *user {
        return Err(refused("the SO PIN and the user PIN must differ; nothing was changed"));
    }
    p11::init_token(ctx, blank.slot, &so, &label)?;
    // Find it again: initialised, with the new label (and its serial, when it had one).
    let now: Vec<TokenSlot> = p11::list_tokens(ctx)?
        .into_iter()
        .filter(|t| t.state.initialized && t.state.label == label && (blank.state.serial.is_empty() || t.state.serial == blank.state.serial))
        .collect();
    let [tok] = now.as_slice() else {
        return Err(refused(format!("after C_InitToken, {} tokens are labelled {label:?}; cannot tell which one was initialised", now.len())));
    };
    let session = open_session(ctx, tok, true)?;
    p11::login(&session, UserType::So, Some(so.as_str()))?;
    p11::init_user_pin(&session, &user)?;
    let _ = session.logout();
    drop(session);
    let tok = TokenSlot { slot: tok.slot, state: p11::token_state(ctx, tok.slot)? };
    ui.show(&format!("Initialised {}. Write the serial on the PIN sheets and the bag: {}", tok.state.describe(), tok.state.serial));
    Ok(tok)
}

/// An initialised token without a user PIN: set one with the SO PIN (asked once, re-prompted
/// like the user PIN).
fn set_user_pin(ctx: &Pkcs11, tok: &TokenSlot, holder: &Keyholder, ui: &mut dyn Ui) -> Result<(), TokenError> {
    if !ui.confirm(&format!("{}'s token {} has no user PIN yet. Set one now (needs the SO PIN)?", holder.name, tok.state.describe()))? {
        return Err(refused(format!("{}'s token has no user PIN", holder.name)));
    }
    let session = open_session(ctx, tok, true)?;
    login_loop(ctx, tok, &session, &holder.name, UserType::So, ui)?;
    let user = new_pin(ui, &holder.name, "user PIN", &tok.state)?;
    p11::init_user_pin(&session, &user)?;
    let _ = session.logout();
    Ok(())
}

fn describe_key(tok: &TokenState, holder: &str) -> String {
    format!("PKCS#11 token {:?} (serial {}, {} {}), key {:?}", tok.label, tok.serial, tok.manufacturer, tok.model, p11::key_label(holder))
}

impl TokenBackend for Pkcs11Tokens {
    fn peek(&mut self, holder: &Keyholder, _ui: &mut dyn Ui) -> Result<Peek, TokenError> {
        let (_, ctx) = module_of(holder)?;
        let tok = match select(&ctx, holder, holder.serial.as_deref(), true)? {
            Selected::Ready(t) => t,
            Selected::Blank(b) => return Ok(Peek::Empty(format!("the PKCS#11 token in slot {:?} is not initialised", b.slot))),
        };
        let session = open_session(&ctx, &tok, false)?;
        let label = p11::key_label(&holder.name);
        Ok(match p11::find_public(&session, &label)? {
            Some(public) => {
                let serial = (!tok.state.serial.is_empty()).then(|| tok.state.serial.clone());
                Peek::Key(TokenKey { public, serial, description: describe_key(&tok.state, &holder.name), attestation: Vec::new(), generated: false })
            }
            None => Peek::Unknown(format!("{} shows no public key labelled {label:?} before login", tok.state.describe())),
        })
    }

    fn provision(&mut self, holder: &Keyholder, ui: &mut dyn Ui) -> Result<TokenKey, TokenError> {
        let (_, ctx) = module_of(holder)?;
        let tok = match select(&ctx, holder, holder.serial.as_deref(), true)? {
            Selected::Ready(t) => t,
            Selected::Blank(b) => initialise(&ctx, &b, holder, ui)?,
        };
        check_state(&tok.state, ui)?;
        if !tok.state.user_pin_initialized {
            set_user_pin(&ctx, &tok, holder, ui)?;
        }
        if !p11::supports(&ctx, tok.slot, holder.algorithm)? {
            return Err(refused(format!(
                "{}'s token {} does not offer the mechanisms for {} keys (key-pair generation and signing); choose another algorithm in the plan",
                holder.name,
                tok.state.describe(),
                holder.algorithm.name()
            )));
        }
        let session = open_session(&ctx, &tok, true)?;
        login_loop(&ctx, &tok, &session, &holder.name, UserType::User, ui)?;
        let label = p11::key_label(&holder.name);
        let (pair, generated) = match p11::find_key(&session, &label)? {
            Some(pair) => {
                if pair.public.algorithm() != holder.algorithm {
                    return Err(refused(format!(
                        "{}'s token already holds a {} key labelled {label:?}, but the plan says {}; keys are never replaced: fix the plan or use another token",
                        holder.name,
                        pair.public.algorithm().name(),
                        holder.algorithm.name()
                    )));
                }
                ui.show(&format!("{}'s token already holds a key labelled {label:?}; keeping it (keys are never regenerated).", holder.name));
                let concerns = pair.concerns();
                if !concerns.is_empty() {
                    let q = format!("Warning: {}. Use this key anyway?", concerns.join("; "));
                    if !ui.confirm(&q)? {
                        return Err(refused(format!("{}'s existing key was not accepted: {}", holder.name, concerns.join("; "))));
                    }
                }
                (pair, false)
            }
            None => {
                ui.show(&format!("Generating a {} key on {}'s token (label {label:?}, non-extractable)…", holder.algorithm.name(), holder.name));
                (p11::generate_key(&session, holder.algorithm, &label)?, true)
            }
        };
        let _ = session.logout();
        let serial = (!tok.state.serial.is_empty()).then(|| tok.state.serial.clone());
        Ok(TokenKey { public: pair.public, serial, description: describe_key(&tok.state, &holder.name), attestation: Vec::new(), generated })
    }

    fn open(&mut self, holder: &Keyholder, expected: &TokenKey, ui: &mut dyn Ui) -> Result<Box<dyn Signer>, TokenError> {
        let (_, ctx) = module_of(holder)?;
        let serial = holder.serial.as_deref().or(expected.serial.as_deref());
        let Selected::Ready(tok) = select(&ctx, holder, serial, false)? else { unreachable!("blank tokens are not selected for signing") };
        check_state(&tok.state, ui)?;
        if let Some(want) = &expected.serial
            && &tok.state.serial != want
        {
            return Err(refused(format!("{}'s token has serial {}, but the key was recorded on serial {want}: wrong token?", holder.name, tok.state.serial)));
        }
        let session = open_session(&ctx, &tok, false)?;
        login_loop(&ctx, &tok, &session, &holder.name, UserType::User, ui)?;
        let label = p11::key_label(&holder.name);
        let Some(pair) = p11::find_key(&session, &label)? else {
            return Err(refused(format!("{}'s token {} holds no key labelled {label:?}: wrong token?", holder.name, tok.state.describe())));
        };
        if pair.public.to_key() != expected.public.to_key() {
            return Err(refused(format!("{}'s token holds a different key than the one recorded in this ceremony: wrong token?", holder.name)));
        }
        Ok(Box::new(p11::Pkcs11Signer::new(session, pair.private, pair.public, describe_key(&tok.state, &holder.name))))
    }
}
