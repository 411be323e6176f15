//! Phone-number normalisation: whatever Dialpad or a human typed, to E.164 (`+` and digits) with
//! a Direct Routing extension kept as `;ext=`.

use phonenumber::{Mode, country};

/// The region assumed for numbers written without a country code (Dialpad's default market).
pub const DEFAULT_REGION: country::Id = country::Id::US;

/// Normalises `raw` to E.164, keeping an extension as `;ext=digits`. `None` if it is not a phone
/// number: no country code and not valid in [`DEFAULT_REGION`], or not 8 to 15 digits.
///
/// Accepted: `+14155550100`, `14155550100`, `(415) 555-0100`, `+1 415-555-0100 ext. 12`,
/// `+14255388701;ext=1001`, `tel:+14155550100`.
pub fn normalise(raw: &str) -> Option<String> {
    let text = raw.trim();
    let text = text.strip_prefix("tel:").unwrap_or(text);
    let (base, explicit_extension) = match text.split_once(";ext=") {
        Some((base, extension)) => (base, Some(extension)),
        None => (text, None),
    };
    if let Some(extension) = explicit_extension
        && (extension.is_empty() || !extension.chars().all(|c| c.is_ascii_digit()))
    {
        return None;
    }
    // Fast path: already canonical E.164 (what Dialpad and Teams store), which the rule below
    // accepts unchanged anyway; libphonenumber is slow enough to dominate a 100,000-user plan.
    if is_canonical_e164(base) {
        return Some(text.to_owned());
    }
    let number = phonenumber::parse(Some(DEFAULT_REGION), base).ok()?;
    let e164 = number.format().mode(Mode::E164).to_string();
    let digits = e164.len().saturating_sub(1);
    // Numbers libphonenumber does not (yet) know are still accepted when they carry an explicit
    // country code; numbers without one must be valid in the region. Either way E.164 allows at
    // most 15 digits, which libphonenumber's validity alone does not ensure.
    let acceptable =
        (8..=15).contains(&digits) && (phonenumber::is_valid(&number) || base.trim_start().starts_with('+'));
    if !acceptable {
        return None;
    }
    let extension = match explicit_extension {
        Some(extension) => Some(extension.to_owned()),
        // An extension marker with nothing after it ("ext.") is no extension; anything but digits
        // after it is no phone number, as for an explicit `;ext=`.
        None => match number.extension().map(|e| e.to_string()) {
            Some(extension) if extension.is_empty() => None,
            Some(extension) if !extension.chars().all(|c| c.is_ascii_digit()) => return None,
            other => other,
        },
    };
    Some(match extension {
        Some(extension) => format!("{e164};ext={extension}"),
        None => e164,
    })
}

fn is_canonical_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dialpad_and_human_formats_normalise_to_e164() {
        let cases = [
            ("+14155550100", "+14155550100"),
            ("14155550100", "+14155550100"),
            ("(415) 555-0103", "+14155550103"),
            (" +1 415-555-0100 ", "+14155550100"),
            ("tel:+14155550100", "+14155550100"),
            ("+442079460000", "+442079460000"),
            ("+44 20 7946 0000", "+442079460000"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise(raw).as_deref(), Some(expected), "{raw}");
        }
    }

    #[test]
    fn extensions_are_kept() {
        assert_eq!(
            normalise("+14255388701;ext=1001").as_deref(),
            Some("+14255388701;ext=1001")
        );
        assert_eq!(
            normalise("+1 415 555 0100 ext. 12").as_deref(),
            Some("+14155550100;ext=12")
        );
    }

    #[test]
    fn things_that_are_not_phone_numbers_are_rejected() {
        for raw in [
            "",
            "555-0113",
            "12345",
            "+1415",
            "not a number",
            "+14155550100;ext=",
            "+14155550100;ext=12a",
        ] {
            assert_eq!(normalise(raw), None, "{raw}");
        }
    }

    #[test]
    fn an_extension_marker_without_digits_gives_no_empty_extension() {
        // Found by the number_normaliser fuzz target: libphonenumber reads "xt." as an extension
        // marker with an empty extension, which came out as "+1414155550;ext=".
        for raw in ["+11 41 415 555 0xt.", "+1 415 555 0100 ext."] {
            let number = normalise(raw).expect(raw);
            assert!(!number.contains(";ext="), "{raw} gave {number}");
            assert_eq!(normalise(&number), Some(number.clone()), "{raw}");
        }
    }

    #[test]
    fn a_number_of_more_than_fifteen_digits_is_invalid_even_when_libphonenumber_accepts_it() {
        // Found by the number_normaliser fuzz target in CI's smoke run: libphonenumber reads the
        // letters as digits and finds a valid German number of 17 digits.
        assert_eq!(normalise("+49 21 790 9R06262R90"), None);
    }

    #[test]
    fn numbers_with_a_country_code_are_accepted_even_if_the_range_is_unknown() {
        assert_eq!(normalise("+16501234567").as_deref(), Some("+16501234567"));
    }
}
