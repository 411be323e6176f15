//! Dialpad's answers as the client reads them: any bytes as a `GET /api/v2/users` page, a
//! `GET /api/v2/numbers` page and an error answer. Errors are fine; a panic is not.
//!
//! Input: a body, optionally after a first line `<status> <retry-after>` (see
//! `dialpad_teams_operator::fuzzing::answer_from_input`).

#![no_main]

use dialpad_teams_operator::fuzzing;
use dialpad_teams_operator::upstream::Service;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dialpad_teams_operator_fuzz::warm_up(), |data: &[u8]| {
    let answer = fuzzing::answer_from_input(data);
    if let Ok((desired, state)) = fuzzing::dialpad_users_page(&answer) {
        // Every desired user's number is in the inventory the page adds to.
        for number in desired.iter().filter_map(|u| u.phone_number.as_deref()) {
            let normalised = dialpad_teams_operator::sync::numbers::normalise(number);
            let kept = normalised.unwrap_or_else(|| number.to_owned());
            assert!(
                state.owned_numbers.contains(&kept),
                "{kept:?} is desired but not owned"
            );
        }
    }
    let _ = fuzzing::dialpad_numbers_page(&answer);
    let message = fuzzing::error_message(answer, Service::Dialpad);
    assert!(!message.is_empty());
});
