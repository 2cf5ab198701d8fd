//! The names a user chooses: a scenario's (`[a-z0-9-]+`) and a target's (`[a-z0-9_-]+`). They
//! become directory and file names of a result set, so the scenario reader checks them on the
//! way in and the result-set reader checks names read back by the same rule: a name from a
//! file can never become a path outside its result set.

/// Characters a scenario name may have besides lowercase letters and digits.
pub const SCENARIO_NAME_EXTRA: &[char] = &['-'];
/// Characters a target name may have besides lowercase letters and digits.
pub const TARGET_NAME_EXTRA: &[char] = &['_', '-'];

/// The longest name: a result set's file names (`<target>.hlog.partial`) stay far below the
/// file system's 255 bytes.
pub const MAX_NAME_CHARS: usize = 64;

/// Whether `text` is a name of 1 to [`MAX_NAME_CHARS`] lowercase ASCII letters, digits and
/// `extra`.
pub fn is_name(text: &str, extra: &[char]) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME_CHARS
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}
