//! Microsoft's answers as the clients read them: any bytes as a Graph `/users` page, a
//! `numberAssignments` page, a directory roles page, a number operation, a token endpoint answer
//! (success or error), an error answer, a `Retry-After` header and a token's claims. Errors are
//! fine; a panic is not.
//!
//! Input: a body, optionally after a first line `<status> <retry-after>` (see
//! `dialpad_teams_operator::fuzzing::answer_from_input`).

#![no_main]

use dialpad_teams_operator::fuzzing;
use dialpad_teams_operator::microsoft::token::TokenClaims;
use dialpad_teams_operator::upstream::{Service, retry_after_of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: dialpad_teams_operator_fuzz::warm_up(), |data: &[u8]| {
    let answer = fuzzing::answer_from_input(data);
    if let Ok((users, index)) = fuzzing::graph_users_page(&answer) {
        // Every user with a mail is found by it.
        for (position, user) in users.iter().enumerate() {
            if let Some(mail) = user.mail.as_deref().filter(|m| !m.trim().is_empty()) {
                assert!(index.find(mail).contains(&position), "{mail:?} is not indexed");
            }
        }
    }
    let _ = fuzzing::graph_numbers_page(&answer);
    let _ = fuzzing::graph_roles_page(&answer);
    let _ = fuzzing::graph_operation(&answer);
    let _ = fuzzing::token_answer(&answer);
    let _ = retry_after_of(&answer.headers);
    let _ = TokenClaims::from_jwt(&String::from_utf8_lossy(&answer.body));
    let message = fuzzing::error_message(answer, Service::Graph);
    assert!(!message.is_empty());
});
