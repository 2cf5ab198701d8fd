//! Placeholders in `[[requests]]` and their `data` files: parsed into templates when read,
//! every bad placeholder a located error (file:line:column at the placeholder itself, key,
//! what was expected), and nothing parsed for a request without placeholders.

use super::*;

/// A temporary directory with `users.csv`, and the errors of a scenario read from `x.toml`
/// in it, the directory left out of the messages.
struct Beside {
    dir: tempfile::TempDir,
}

impl Beside {
    fn new() -> Beside {
        let dir = tempfile::tempdir().unwrap();
        let users = "email,password,city\nann@x.io,pw1,Oslo\nbob@x.io,pw2,New York\n\
                     cid@x.io,pw3,Z\u{fc}rich\n";
        std::fs::write(dir.path().join("users.csv"), users).unwrap();
        Beside { dir }
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.dir.path().join(name), text).unwrap();
    }

    fn parse(&self, text: &str) -> Result<Plan, ScenarioErrors> {
        parse_str(text, &self.dir.path().join("x.toml"))
    }

    fn errors(&self, text: &str) -> Vec<String> {
        let prefix = format!("{}/", self.dir.path().display());
        match self.parse(text) {
            Ok(plan) => panic!("expected errors, got {plan:#?}"),
            Err(errors) => errors
                .0
                .iter()
                .map(|e| e.to_string().replace(&prefix, ""))
                .collect(),
        }
    }
}

/// `template` rendered for request `seq`.
fn render(template: &template::Template, seq: u64) -> String {
    let mut out = Vec::new();
    template.render(seq, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn placeholders_become_templates_and_the_text_stays_as_written() {
    let beside = Beside::new();
    let text = head()
        .phase(PHASE_BODY)
        .request(
            "method = \"POST\"\npath = \"/items/{{seq}}?n={{int 1 6}}\"\n\
             headers = { x-id = \"{{uuid}}\", accept = \"text/plain\", x-color = \"{{pick red green}}\" }\n\
             body = '{\"email\":\"{{data.email}}\",\"esc\":\"{{\"{{\"}}\"}'\ndata = \"users.csv\"",
        )
        .request("path = \"/plain\"\nheaders = { a = \"b\" }\nbody = \"{}\"")
        .to_string();
    let plan = beside.parse(&text).unwrap();
    let request = &plan.requests[0];
    assert_eq!(request.path_and_query, "/items/{{seq}}?n={{int 1 6}}");
    assert_eq!(request.name, "POST /items/{{seq}}?n={{int 1 6}}");
    assert_eq!(request.headers[0].1, "{{uuid}}");
    let placeholders = request.placeholders.as_ref().unwrap();
    let path = placeholders.path.as_ref().unwrap();
    let n: i64 = render(path, 5)
        .strip_prefix("/items/5?n=")
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=6).contains(&n));
    let indices: Vec<usize> = placeholders.headers.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [0, 2], "accept has none");
    assert!(["red", "green"].contains(&render(placeholders.header(2).unwrap(), 3).as_str()));
    let body = placeholders.body.as_ref().unwrap();
    assert_eq!(render(body, 1), r#"{"email":"bob@x.io","esc":"{{"}"#);
    assert_eq!(render(body, 3), r#"{"email":"ann@x.io","esc":"{{"}"#);
    assert_eq!(plan.requests[1].placeholders, None);
}

#[test]
fn the_same_seed_gives_the_same_values_and_another_seed_others() {
    let scenario = |seed: u64| {
        let text = format!(
            "seed = {seed}\n{}",
            head()
                .phase(PHASE_BODY)
                .request("path = \"/{{seq}}/{{int 0 1000000}}/{{uuid}}\"")
        );
        parse(&text).unwrap().requests[0]
            .placeholders
            .clone()
            .unwrap()
    };
    let values = |seed| {
        let path = scenario(seed).path.unwrap();
        (0..20).map(|seq| render(&path, seq)).collect::<Vec<_>>()
    };
    assert_eq!(values(4), values(4));
    assert_ne!(values(4), values(5));
}

#[test]
fn bad_placeholders_are_located_at_the_placeholder() {
    let beside = Beside::new();
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/a/{{{{sq}}}}\"\n\
         headers = {{ x-a = \"n={{{{int 5 1}}}}\" }}\nbody = \"{{{{data.email}}}}\"\n\
         [[requests]]\npath = \"/b/{{{{pick a \\\"b c\\\"}}}}\"\ndata = \"users.csv\"\n\
         headers = {{ x-u = \"{{{{data.mail}}}}\", x-c = \"{{{{data.city}}}}\" }}\n\
         body = \"{{{{seq\"\n"
    );
    assert_eq!(
        beside.errors(&text),
        [
            "x.toml:8:12: requests[0].path: expected a placeholder: {{seq}}, {{int MIN MAX}}, \
             {{pick A B ...}}, {{uuid}}, {{data.COLUMN}} or {{\"TEXT\"}}, found `{{sq}}` \
             (did you mean `seq`?)",
            "x.toml:9:22: requests[0].headers.x-a: expected {{int MIN MAX}} with two integers, \
             MIN <= MAX, as in {{int 1 100}}, found `{{int 5 1}}`",
            "x.toml:10:9: requests[0].body: not allowed here: `{{data.email}}` takes a column \
             of the request's data file; add `data = \"FILE.csv\"` to this request",
            "x.toml:12:8: requests[1].path: expected values that can go in a path: letters, \
             digits and -._~%!$&'()*+,;=:@/? (percent-encode the others), found \"b c\" (an \
             item of `{{pick a \"b c\"}}`)",
            "x.toml:14:20: requests[1].headers.x-u: unknown users.csv column `mail`; expected \
             one of `email`, `password`, `city` (did you mean `data.email`?)",
            "x.toml:14:43: requests[1].headers.x-c: expected values that can go in a header: \
             visible ASCII characters and spaces, found \"Zürich\" (users.csv line 4)",
            "x.toml:15:9: requests[1].body: expected `}}` closing the placeholder, found the \
             end of the text after `{{seq`",
        ]
    );
}

#[test]
fn a_placeholder_in_a_multi_line_string_is_located_on_its_line() {
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/\"\nbody = '''\nline one\n  {{{{uid}}}}'''\n"
    );
    assert_eq!(
        error(&text),
        "x.toml:11:3: requests[0].body: expected a placeholder: {{seq}}, {{int MIN MAX}}, \
         {{pick A B ...}}, {{uuid}}, {{data.COLUMN}} or {{\"TEXT\"}}, found `{{uid}}` \
         (did you mean `uuid`?)"
    );
}

#[test]
fn data_files_and_their_order_are_checked() {
    let beside = Beside::new();
    beside.write("bad.csv", "a,b\n1,2\n3\n");
    let text = format!(
        "{HEAD}{PHASE}[[requests]]\npath = \"/{{{{data.email}}}}\"\ndata = \"missing.csv\"\n\
         [[requests]]\npath = \"/{{{{data.a}}}}\"\ndata = \"bad.csv\"\n\
         [[requests]]\npath = \"/{{{{data.email}}}}\"\ndata = \"users.csv\"\ndata_order = \"shuffled\"\n\
         [[requests]]\npath = \"/\"\ndata_order = \"random\"\n"
    );
    let dir = beside.dir.path().display();
    assert_eq!(
        beside.errors(&text),
        [
            format!(
                "x.toml:9:8: requests[0].data: expected a file, relative to the scenario file, \
                 found \"missing.csv\" ({dir}/missing.csv is not a file)"
            )
            .replace(&format!("{dir}/"), ""),
            "x.toml:12:8: requests[1].data: expected a CSV file with a header row naming its \
             columns and at least one row, found \"bad.csv\" (line 3 has 1 fields where the \
             header has 2)"
                .into(),
            "x.toml:16:14: requests[2].data_order: expected one of \"sequential\", \"random\", \
             found \"shuffled\""
                .into(),
            "x.toml:19:14: requests[3].data_order: not allowed here: `data_order` says in which \
             order the rows of `data = \"FILE.csv\"` are used, and this request has no `data`"
                .into(),
        ]
    );
}

#[test]
fn random_data_rows_are_read_and_every_row_is_a_possible_value() {
    let beside = Beside::new();
    let text = head()
        .phase(PHASE_BODY)
        .request(
            "path = \"/login\"\nmethod = \"POST\"\nbody = \"{{data.email}}:{{data.password}}\"\n\
             data = \"users.csv\"\ndata_order = \"random\"",
        )
        .to_string();
    let plan = beside.parse(&text).unwrap();
    let body = plan.requests[0].placeholders.as_ref().unwrap().body.clone();
    let body = body.unwrap();
    let seen: std::collections::BTreeSet<String> = (0..100).map(|seq| render(&body, seq)).collect();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["ann@x.io:pw1", "bob@x.io:pw2", "cid@x.io:pw3"],
        "a row's columns go together"
    );
}
