//! `[database]`: the throwaway PostgreSQL of the built-in targets.

use super::*;

#[test]
fn database_max_connections_is_read_and_checked() {
    let plan = parse(&minimal().database("max_connections = 20").to_string()).unwrap();
    assert_eq!(plan.database.max_connections, 20);
    let errors = parse(&minimal().database("max_conections = 0").to_string()).unwrap_err();
    let text = errors.to_string();
    assert!(
        text.contains("database.max_conections: unknown key"),
        "{text}"
    );
    assert!(text.contains("did you mean `max_connections`?"), "{text}");
    let errors = parse(&minimal().database("max_connections = 0").to_string()).unwrap_err();
    assert!(
        errors
            .to_string()
            .contains("database.max_connections: expected an integer from 1 to 10000, found 0"),
        "{errors}"
    );
}
