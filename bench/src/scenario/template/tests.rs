//! Unit tests of templates: every placeholder form parsed, every malformed one with its exact
//! message, CSV data files read, and values rendered: reproducible from the seed and `seq`,
//! different for another seed, within their range, list or file.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::syntax::{parse, Kind, Part, Placeholder};
use super::*;

fn placeholder(at: usize, written: &str, kind: Kind) -> Part {
    Part::Placeholder(Placeholder {
        at,
        written: written.into(),
        kind,
    })
}

fn text(text: &str) -> Part {
    Part::Text(text.into())
}

/// The messages of a malformed string, with where each placeholder starts.
fn syntax_errors(text: &str) -> Vec<(usize, String)> {
    match parse(text) {
        Ok(parts) => panic!("expected errors, got {parts:?}"),
        Err(errors) => errors
            .into_iter()
            .map(|e| (e.at, e.problem.to_string()))
            .collect(),
    }
}

#[test]
fn every_form_is_parsed_with_where_it_was_written() {
    let parts = parse("/a/{{seq}}/{{ int -5 5 }}?c={{pick red \"dark blue\"}}&u={{uuid}}").unwrap();
    assert_eq!(
        parts,
        [
            text("/a/"),
            placeholder(3, "{{seq}}", Kind::Seq),
            text("/"),
            placeholder(11, "{{ int -5 5 }}", Kind::Int { min: -5, max: 5 }),
            text("?c="),
            placeholder(
                28,
                "{{pick red \"dark blue\"}}",
                Kind::Pick(vec!["red".into(), "dark blue".into()])
            ),
            text("&u="),
            placeholder(55, "{{uuid}}", Kind::Uuid),
        ]
    );
    assert_eq!(
        parse("{{data.email}}").unwrap(),
        [placeholder(0, "{{data.email}}", Kind::Data("email".into()))]
    );
    assert_eq!(
        parse(r#"{{pick "say \"hi\"" a\b}}"#).unwrap(),
        [placeholder(
            0,
            r#"{{pick "say \"hi\"" a\b}}"#,
            Kind::Pick(vec![r#"say "hi""#.into(), r"a\b".into()])
        )]
    );
}

#[test]
fn quoted_text_escapes_braces_and_lone_braces_are_text() {
    assert_eq!(parse(r#"a{{"{{"}}b}}"#).unwrap(), [text("a{{b}}")]);
    assert_eq!(
        parse(r#"{"k":{"v":1}} {{ "}}" }}"#).unwrap(),
        [text(r#"{"k":{"v":1}} }}"#)]
    );
    assert_eq!(parse("no placeholders").unwrap(), [text("no placeholders")]);
    assert_eq!(parse("").unwrap(), []);
}

#[test]
fn malformed_placeholders_say_what_was_expected() {
    let all = "a placeholder: {{seq}}, {{int MIN MAX}}, {{pick A B ...}}, {{uuid}}, \
               {{data.COLUMN}} or {{\"TEXT\"}}";
    let int = "{{int MIN MAX}} with two integers, MIN <= MAX, as in {{int 1 100}}";
    let cases: [(&str, String); 12] = [
        (
            "{{sq}}",
            format!("expected {all}, found `{{{{sq}}}}` (did you mean `seq`?)"),
        ),
        ("{{}}", format!("expected {all}, found `{{{{}}}}`")),
        (
            "{{data}}",
            format!("expected {all}, found `{{{{data}}}}` (did you mean `data.COLUMN`?)"),
        ),
        (
            "{{int 1}}",
            format!("expected {int}, found `{{{{int 1}}}}`"),
        ),
        (
            "{{int 9 1}}",
            format!("expected {int}, found `{{{{int 9 1}}}}`"),
        ),
        (
            "{{int a 2}}",
            format!("expected {int}, found `{{{{int a 2}}}}`"),
        ),
        (
            "{{seq 5}}",
            "expected {{seq}} without arguments, found `{{seq 5}}`".into(),
        ),
        (
            "{{uuid v4}}",
            "expected {{uuid}} without arguments, found `{{uuid v4}}`".into(),
        ),
        (
            "{{pick}}",
            "expected {{pick A B ...}} with at least one item, found `{{pick}}`".into(),
        ),
        (
            "{{\"a\" \"b\"}}",
            "expected one quoted text, as in {{\"{{\"}}; {{pick ...}} picks among items, \
             found `{{\"a\" \"b\"}}`"
                .into(),
        ),
        (
            "{{pick \"a}}",
            "expected `\"` closing the quoted item, found the end of the text after `\"a}}`".into(),
        ),
        (
            "{{pick \"a\\nb\"}}",
            "expected `\\\"` or `\\\\` in a quoted item, found `\\n` in `\"a\\nb\"}}`".into(),
        ),
    ];
    for (text, message) in cases {
        assert_eq!(syntax_errors(text), [(0, message)], "{text}");
    }
    assert_eq!(
        syntax_errors("/x/{{seq"),
        [(
            3,
            "expected `}}` closing the placeholder, found the end of the text after `{{seq`".into()
        )]
    );
}

#[test]
fn every_malformed_placeholder_of_a_string_is_reported() {
    let at: Vec<usize> = syntax_errors("{{a}} {{seq}} {{b}} {{int}}")
        .into_iter()
        .map(|(at, _)| at)
        .collect();
    assert_eq!(at, [0, 14, 20]);
}

// ---- data files ------------------------------------------------------------------------------

#[test]
fn csv_files_are_read_with_quotes_line_ends_and_blank_lines() {
    let table = DataTable::parse(
        "\u{feff}email,\"pass, word\"\r\na@x.io,\"say \"\"hi\"\"\"\r\n\r\nb@x.io,\"two\nlines\"\nc@x.io,\n",
    )
    .unwrap();
    assert_eq!(table.columns(), ["email", "pass, word"]);
    assert_eq!(table.rows(), 3);
    assert_eq!(table.cell(0, 1), "say \"hi\"");
    assert_eq!(table.cell(1, 1), "two\nlines");
    assert_eq!((table.cell(2, 0), table.cell(2, 1)), ("c@x.io", ""));
    let lines: Vec<usize> = table.values(0).map(|(line, _)| line).collect();
    assert_eq!(lines, [2, 4, 6]);
    assert_eq!(table.column("pass, word"), Some(1));
    assert_eq!(table.column("nope"), None);
}

#[test]
fn malformed_csv_files_say_what_is_wrong_and_where() {
    let cases = [
        ("", "no header row (the file is empty)"),
        ("a,b\n", "a header row but no rows of values"),
        (
            "a,b\n1,2\n3\n",
            "line 3 has 1 fields where the header has 2",
        ),
        ("a,a\n1,2\n", "column `a` is named twice in the header"),
        (
            "a\n\"open\n",
            "the quoted field opened on line 2 never closes",
        ),
        (
            "a\n\"x\"y\n",
            "line 2: `y` after a quoted field; expected `,` or the end of the line",
        ),
    ];
    for (text, message) in cases {
        assert_eq!(DataTable::parse(text).unwrap_err(), message, "{text:?}");
    }
}

fn source(order: DataOrder, key: u64) -> Arc<DataSource> {
    Arc::new(DataSource {
        table: DataTable::parse("user\nann\nbob\ncid\n").unwrap(),
        order,
        key,
    })
}

/// `template` rendered for each of `seqs`.
fn rendered(template: &Template, seqs: std::ops::Range<u64>) -> Vec<String> {
    seqs.map(|seq| {
        let mut out = Vec::new();
        template.render(seq, &mut out);
        String::from_utf8(out).unwrap()
    })
    .collect()
}

fn one(hole: Hole) -> Template {
    let mut template = Template::default();
    template.push_hole(hole);
    template
}

#[test]
fn sequential_rows_go_in_order_and_wrap_around() {
    let data = one(Hole::Data {
        source: source(DataOrder::Sequential, 1),
        column: 0,
    });
    assert_eq!(
        rendered(&data, 0..7),
        ["ann", "bob", "cid", "ann", "bob", "cid", "ann"]
    );
    assert_eq!(rendered(&data, 301..302), ["bob"]);
}

#[test]
fn random_rows_are_reproducible_from_their_key_and_reach_every_row() {
    let random = |key| {
        one(Hole::Data {
            source: source(DataOrder::Random, key),
            column: 0,
        })
    };
    let first = rendered(&random(Keys::new(1, 0).data_rows()), 0..300);
    assert_eq!(
        first,
        rendered(&random(Keys::new(1, 0).data_rows()), 0..300)
    );
    assert_ne!(
        first,
        rendered(&random(Keys::new(2, 0).data_rows()), 0..300)
    );
    let seen: BTreeSet<&str> = first.iter().map(String::as_str).collect();
    assert_eq!(seen, BTreeSet::from(["ann", "bob", "cid"]));
    assert_ne!(first[..3], ["ann", "bob", "cid"], "not the file order");
}

// ---- values ----------------------------------------------------------------------------------

/// A template of every random kind, keyed like request 0 of a scenario with `seed`.
fn every_kind(seed: u64) -> Template {
    let keys = Keys::new(seed, 0);
    let mut template = Template::default();
    template.push_text(b"/");
    template.push_hole(Hole::Seq);
    template.push_text(b"/");
    let int = keys.placeholder(1);
    template.push_hole(Hole::Int {
        min: 1,
        max: 1000,
        key: int,
    });
    template.push_text(b"/");
    let items = ["a", "b"].map(Box::from).into();
    let key = keys.placeholder(2);
    template.push_hole(Hole::Pick { items, key });
    template.push_text(b"/");
    template.push_hole(Hole::Uuid {
        key: keys.placeholder(3),
    });
    template
}

#[test]
fn values_are_the_same_for_the_same_seed_and_seq_and_differ_for_another_seed() {
    let values = rendered(&every_kind(7), 0..200);
    assert_eq!(values, rendered(&every_kind(7), 0..200));
    // Rendered one at a time in any order (as workers and shards do): the same values.
    let shuffled: Vec<String> = (0..200u64)
        .rev()
        .map(|seq| rendered(&every_kind(7), seq..seq + 1).remove(0))
        .rev()
        .collect();
    assert_eq!(values, shuffled);
    let other = rendered(&every_kind(8), 0..200);
    for (seq, (a, b)) in values.iter().zip(&other).enumerate() {
        assert_eq!(
            a.split('/').nth(1),
            b.split('/').nth(1),
            "seq is not random"
        );
        assert_ne!(
            a.rsplit('/').next(),
            b.rsplit('/').next(),
            "uuid of seq {seq}"
        );
    }
    assert!(values[0].starts_with("/0/") && values[199].starts_with("/199/"));
}

#[test]
fn placeholders_of_one_request_draw_from_streams_of_their_own() {
    let keys = Keys::new(1, 0);
    let int = |key| {
        one(Hole::Int {
            min: 0,
            max: 1_000_000,
            key,
        })
    };
    let first = rendered(&int(keys.placeholder(0)), 0..50);
    assert_ne!(first, rendered(&int(keys.placeholder(1)), 0..50));
    assert_ne!(first, rendered(&int(Keys::new(1, 1).placeholder(0)), 0..50));
}

#[test]
fn int_ranges_include_both_bounds() {
    let dice = one(Hole::Int {
        min: 1,
        max: 6,
        key: Keys::new(3, 0).placeholder(0),
    });
    let rolls: Vec<i64> = rendered(&dice, 0..6000)
        .iter()
        .map(|r| r.parse().unwrap())
        .collect();
    let mut counts = [0usize; 7];
    for roll in &rolls {
        assert!((1..=6).contains(roll), "{roll}");
        counts[*roll as usize] += 1;
    }
    for (face, count) in counts.iter().enumerate().skip(1) {
        assert!((800..1200).contains(count), "{face}: {count} of 6000");
    }
    let negative = one(Hole::Int {
        min: -2,
        max: -1,
        key: 9,
    });
    let seen: BTreeSet<String> = rendered(&negative, 0..100).into_iter().collect();
    assert_eq!(seen, BTreeSet::from(["-2".into(), "-1".into()]));
}

#[test]
fn pick_covers_its_list_and_nothing_else() {
    let items: Box<[Box<str>]> = ["red", "green", "dark blue"].map(Box::from).into();
    let pick = one(Hole::Pick { items, key: 5 });
    let seen: BTreeSet<String> = rendered(&pick, 0..300).into_iter().collect();
    assert_eq!(
        seen,
        BTreeSet::from(["red".into(), "green".into(), "dark blue".into()])
    );
}

#[test]
fn uuids_are_version_4_and_distinct() {
    let uuid = one(Hole::Uuid { key: 11 });
    let all = rendered(&uuid, 0..5000);
    for id in &all {
        let groups: Vec<&str> = id.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
        assert!(id
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert!(groups[2].starts_with('4'), "version: {id}");
        assert!(groups[3].starts_with(['8', '9', 'a', 'b']), "variant: {id}");
    }
    assert_eq!(all.iter().collect::<BTreeSet<_>>().len(), all.len());
}

#[test]
fn templates_join_text_and_tell_text_from_holes() {
    let mut template = Template::default();
    assert_eq!(template.as_text(), Some(&b""[..]));
    template.push_text(b"GET ");
    template.push_text(b"/");
    assert_eq!(template.as_text(), Some(&b"GET /"[..]));
    assert!(!template.has_holes());
    let mut joined = template.clone();
    joined.push_template(&one(Hole::Seq));
    joined.push_text(b" HTTP/1.1");
    assert!(joined.has_holes() && joined.as_text().is_none());
    assert_eq!(rendered(&joined, 42..43), ["GET /42 HTTP/1.1"]);
}
