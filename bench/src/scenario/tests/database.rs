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
    // PostgreSQL would not start with 1 (and the run printed its error twice).
    for few in [0, 1, 4] {
        let text = minimal().database(&format!("max_connections = {few}"));
        let errors = parse(&text.to_string()).unwrap_err().to_string();
        let expected =
            format!("database.max_connections: expected an integer from 5 to 10000, found {few}");
        assert!(errors.contains(&expected), "{errors}");
    }
    let plan = parse(&minimal().database("max_connections = 5").to_string()).unwrap();
    assert_eq!(plan.database.max_connections, 5);
}
