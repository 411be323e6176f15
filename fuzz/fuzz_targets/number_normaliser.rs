//! The phone-number normaliser on any text: it never panics, what it returns is E.164 with 8 to 15
//! digits and at most a digits-only `;ext=`, and normalising its result changes nothing.

#![no_main]

use dialpad_teams_operator::sync::numbers::normalise;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dialpad_teams_operator_fuzz::warm_up(), |raw: &str| {
    let Some(number) = normalise(raw) else {
        return;
    };
    let (base, extension) = match number.split_once(";ext=") {
        Some((base, extension)) => (base, Some(extension)),
        None => (number.as_str(), None),
    };
    let digits = base
        .strip_prefix('+')
        .unwrap_or_else(|| panic!("{raw:?} gave {number:?}, which has no leading +"));
    assert!(
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()),
        "{raw:?} gave {number:?}, which is not + and 8 to 15 digits"
    );
    assert!(
        !digits.starts_with('0'),
        "{raw:?} gave {number:?}, whose country code starts with 0"
    );
    if let Some(extension) = extension {
        assert!(
            !extension.is_empty() && extension.bytes().all(|b| b.is_ascii_digit()),
            "{raw:?} gave {number:?}, whose extension is not digits"
        );
    }
    assert_eq!(
        normalise(&number).as_deref(),
        Some(number.as_str()),
        "normalising {raw:?} twice differs"
    );
});
