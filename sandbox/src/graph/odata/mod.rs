//! The OData query options Graph accepts by default: a `$filter` subset, `$select`, `$top`,
//! `$skip` and `$count`, parsed and checked the way Graph answers them (400 with
//! `Request_UnsupportedQuery` or `Request_BadRequest`).
//!
//! `$filter` grammar supported (keywords and property names ignore case; strings use `'...'` with
//! `''` for a quote):
//!
//! ```text
//! expr    := and ("or" and)*
//! and     := primary ("and" primary)*
//! primary := "(" expr ")"
//!          | target "eq" literal
//!          | target "in" "(" literal ("," literal)* ")"
//!          | "startsWith" "(" target "," string ")"
//!          | collection "/any(" var ":" expr-over-var ")"
//! literal := 'string' | true | false
//! ```
//!
//! A filter of more than 100 clauses, or nesting parentheses deeper than 32 levels, is refused
//! with `Request_BadRequest`: the sandbox's own bound (Graph documents none), which keeps parsing
//! and evaluation off the end of the stack.
//!
//! Inside `any(x: ...)` the target is the range variable `x`. Anything else (`ne`, `not`,
//! `endsWith`, numbers, GUID literals, `null`, nested lambdas, unknown properties, a boolean
//! compared with a string) is refused with [`QueryError`], as Graph refuses advanced queries
//! sent without `ConsistencyLevel: eventual`.
//!
//! Use: describe the resource's filterable properties as a [`FilterSchema`], parse with
//! [`Filter::parse`], then test entities with [`Filter::matches`] (via [`FilterSubject`]) or
//! [`Filter::matches_with`] (a closure).
//!
//! ```
//! use dialpad_teams_sandbox::graph::odata::{Filter, FilterSchema, Kind, PropertyValue};
//!
//! const NUMBERS: FilterSchema = FilterSchema {
//!     resource: "numberAssignment",
//!     properties: &[("telephoneNumber", Kind::String), ("assignmentStatus", Kind::String)],
//! };
//! let filter = Filter::parse("telephoneNumber eq '+14155550100'", &NUMBERS).unwrap();
//! assert!(filter.matches_with(|property| match property {
//!     "telephoneNumber" => PropertyValue::String("+14155550100"),
//!     _ => PropertyValue::Null,
//! }));
//! ```

use axum::http::StatusCode;
use axum::response::Response;

use crate::errors::graph_error;

pub mod paging;
mod parser;
use parser::*;

/// A refused query option: a Graph error code and message, answered with HTTP 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// `Request_UnsupportedQuery` or `Request_BadRequest`.
    pub code: &'static str,
    /// Graph's message.
    pub message: String,
}

impl QueryError {
    /// `Request_UnsupportedQuery`: "Unsupported or invalid query filter clause specified for
    /// property '{property}' of resource '{resource}'."
    pub fn unsupported_property(property: &str, resource: &str) -> Self {
        Self {
            code: "Request_UnsupportedQuery",
            message: format!(
                "Unsupported or invalid query filter clause specified for property '{property}' of resource '{resource}'."
            ),
        }
    }

    /// `Request_UnsupportedQuery` with a free message (e.g. an unsupported operator).
    pub fn unsupported(message: impl Into<String>) -> Self {
        Self {
            code: "Request_UnsupportedQuery",
            message: message.into(),
        }
    }

    /// `Request_BadRequest` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            code: "Request_BadRequest",
            message: message.into(),
        }
    }

    /// The Graph error response (HTTP 400).
    pub fn into_response(self) -> Response {
        graph_error(StatusCode::BAD_REQUEST, self.code, &self.message)
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for QueryError {}

/// The type of a filterable property.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string compared exactly.
    String,
    /// A string compared ignoring ASCII case (directory names such as `mail`).
    StringIgnoreCase,
    /// `true`/`false`.
    Bool,
    /// A collection of strings, filtered with `any(...)`, compared exactly.
    Strings,
    /// A collection of strings, filtered with `any(...)`, compared ignoring ASCII case.
    StringsIgnoreCase,
}

impl Kind {
    fn is_collection(self) -> bool {
        matches!(self, Kind::Strings | Kind::StringsIgnoreCase)
    }

    fn element(self) -> Kind {
        match self {
            Kind::Strings => Kind::String,
            Kind::StringsIgnoreCase => Kind::StringIgnoreCase,
            other => other,
        }
    }
}

/// The filterable properties of one resource type.
#[derive(Clone, Copy, Debug)]
pub struct FilterSchema {
    /// The resource name used in error messages, e.g. `user`.
    pub resource: &'static str,
    /// `(name, kind)`; the name is the canonical spelling handed to [`FilterSubject::value`].
    pub properties: &'static [(&'static str, Kind)],
}

impl FilterSchema {
    fn lookup(&self, name: &str) -> Option<(&'static str, Kind)> {
        self.properties
            .iter()
            .copied()
            .find(|(p, _)| p.eq_ignore_ascii_case(name))
    }
}

/// A property's value on one entity, as handed to the evaluator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropertyValue<'a> {
    /// No value (`null`): matches nothing.
    Null,
    /// A string.
    String(&'a str),
    /// A boolean.
    Bool(bool),
    /// A collection of strings.
    Strings(Vec<&'a str>),
}

/// Something a [`Filter`] can test: returns the value of a property by its canonical name
/// (one listed in the [`FilterSchema`] the filter was parsed with).
pub trait FilterSubject {
    /// The value of `property`.
    fn value(&self, property: &str) -> PropertyValue<'_>;
}

/// A literal in a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Literal {
    String(String),
    Bool(bool),
}

/// What a comparison is applied to.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    /// A scalar property of the entity.
    Property(&'static str),
    /// The range variable of the enclosing `any`.
    Item,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Test {
    Eq(Literal),
    In(Vec<Literal>),
    StartsWith(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Expr {
    Compare {
        target: Target,
        ignore_case: bool,
        test: Test,
    },
    Any {
        property: &'static str,
        predicate: Box<Expr>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed and type-checked `$filter`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    expr: Expr,
}

impl Filter {
    /// Parses `text` against `schema`. Syntax errors give `Request_BadRequest` ("Invalid filter
    /// clause"); unknown properties and unsupported operators give `Request_UnsupportedQuery`.
    pub fn parse(text: &str, schema: &FilterSchema) -> Result<Filter, QueryError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            position: 0,
            schema,
            range: None,
            text,
            depth: 0,
            clauses: 0,
        };
        if parser.tokens.is_empty() {
            return Err(syntax_error(text, 0));
        }
        let expr = parser.expr()?;
        if parser.position < parser.tokens.len() {
            return Err(parser.syntax_error_here());
        }
        Ok(Filter { expr })
    }

    /// Whether `subject` satisfies the filter.
    pub fn matches<S: FilterSubject + ?Sized>(&self, subject: &S) -> bool {
        eval(&self.expr, &|property| subject.value(property), None)
    }

    /// Whether the entity whose properties `lookup` returns satisfies the filter.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> PropertyValue<'a>) -> bool {
        eval(&self.expr, &lookup, None)
    }

    /// The canonical names of the properties the filter reads.
    pub fn properties(&self) -> Vec<&'static str> {
        fn walk(expr: &Expr, out: &mut Vec<&'static str>) {
            match expr {
                Expr::Compare {
                    target: Target::Property(p),
                    ..
                }
                | Expr::Any { property: p, .. } => {
                    if !out.contains(p) {
                        out.push(p);
                    }
                }
                Expr::Compare {
                    target: Target::Item, ..
                } => {}
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }
}

fn eval<'a>(expr: &Expr, lookup: &dyn Fn(&str) -> PropertyValue<'a>, item: Option<&str>) -> bool {
    match expr {
        Expr::And(a, b) => eval(a, lookup, item) && eval(b, lookup, item),
        Expr::Or(a, b) => eval(a, lookup, item) || eval(b, lookup, item),
        Expr::Any { property, predicate } => match lookup(property) {
            PropertyValue::Strings(values) => values.iter().any(|v| eval(predicate, lookup, Some(v))),
            PropertyValue::String(value) => eval(predicate, lookup, Some(value)),
            _ => false,
        },
        Expr::Compare {
            target,
            ignore_case,
            test,
        } => {
            let value = match target {
                Target::Item => item.map(PropertyValue::String).unwrap_or(PropertyValue::Null),
                Target::Property(p) => lookup(p),
            };
            compare(&value, *ignore_case, test)
        }
    }
}

fn compare(value: &PropertyValue<'_>, ignore_case: bool, test: &Test) -> bool {
    let equal = |literal: &Literal| match (value, literal) {
        (PropertyValue::String(v), Literal::String(l)) => {
            if ignore_case {
                v.eq_ignore_ascii_case(l)
            } else {
                v == l
            }
        }
        (PropertyValue::Bool(v), Literal::Bool(l)) => v == l,
        _ => false,
    };
    match test {
        Test::Eq(literal) => equal(literal),
        Test::In(literals) => literals.iter().any(equal),
        Test::StartsWith(prefix) => match value {
            PropertyValue::String(v) => {
                v.len() >= prefix.len()
                    && v.is_char_boundary(prefix.len())
                    && if ignore_case {
                        v[..prefix.len()].eq_ignore_ascii_case(prefix)
                    } else {
                        v.starts_with(prefix.as_str())
                    }
            }
            _ => false,
        },
    }
}

/// The query string's parameters, decoded, with system query options (`$...`) looked up ignoring
/// case. A system option given twice is refused.
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    pairs: Vec<(String, String)>,
}

impl QueryOptions {
    /// Decodes `raw` (the part after `?`, form-encoded: `+` is a space).
    pub fn parse(raw: Option<&str>) -> Result<QueryOptions, QueryError> {
        let pairs: Vec<(String, String)> = match raw {
            None | Some("") => Vec::new(),
            Some(raw) => serde_urlencoded::from_str(raw)
                .map_err(|_| QueryError::bad_request("The query string is not valid."))?,
        };
        for (index, (name, _)) in pairs.iter().enumerate() {
            if name.starts_with('$')
                && pairs[..index]
                    .iter()
                    .any(|(other, _)| other.eq_ignore_ascii_case(name))
            {
                return Err(QueryError::bad_request(format!(
                    "Query option '{name}' was specified more than once, but it must be specified at most once."
                )));
            }
        }
        Ok(QueryOptions { pairs })
    }

    /// The value of option `name` (e.g. `$top`), ignoring case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// System options (`$...`) present that are not in `supported` (compared ignoring case).
    pub fn unsupported_system_options(&self, supported: &[&str]) -> Vec<&str> {
        self.pairs
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| n.starts_with('$') && !supported.iter().any(|s| s.eq_ignore_ascii_case(n)))
            .collect()
    }
}

/// Parses `$select`: a comma list of property names, trimmed. An empty item is a syntax error.
pub fn parse_select(raw: &str) -> Result<Vec<String>, QueryError> {
    raw.split(',')
        .map(str::trim)
        .map(|item| {
            if item.is_empty() {
                Err(QueryError::bad_request(format!(
                    "Syntax error: character ',' is not valid at position 0 in '{raw}'."
                )))
            } else {
                Ok(item.to_owned())
            }
        })
        .collect()
}

/// Parses `$top`: absent gives `default`; anything but an integer in `1..=max` gives Graph's
/// "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
pub fn parse_top(raw: Option<&str>, default: usize, max: usize) -> Result<usize, QueryError> {
    let Some(raw) = raw else {
        return Ok(default);
    };
    match raw.trim().parse::<usize>() {
        Ok(top) if (1..=max).contains(&top) => Ok(top),
        _ => Err(QueryError::bad_request(format!(
            "Invalid page size specified: '{raw}'. Must be between 1 and {max} inclusive."
        ))),
    }
}

/// Parses `$skip`: absent gives 0; otherwise a non-negative integer.
pub fn parse_skip(raw: Option<&str>) -> Result<usize, QueryError> {
    let Some(raw) = raw else {
        return Ok(0);
    };
    raw.trim()
        .parse::<usize>()
        .map_err(|_| QueryError::bad_request(format!("Invalid value '{raw}' for query option '$skip'.")))
}

/// Parses `$count`: absent gives `false`; `true`/`false` ignoring case.
pub fn parse_count(raw: Option<&str>) -> Result<bool, QueryError> {
    match raw.map(str::trim) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(QueryError::bad_request(format!(
            "Invalid value '{v}' for query option '$count'."
        ))),
    }
}

#[cfg(test)]
#[path = "odata_tests.rs"]
mod tests;
