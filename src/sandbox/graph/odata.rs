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
//! use dialpad_teams_operator::sandbox::graph::odata::{Filter, FilterSchema, Kind, PropertyValue};
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

use crate::sandbox::errors::graph_error;

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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    /// A name, keyword or bare literal (`mail`, `eq`, `true`, `42`, a GUID).
    Word(String),
    /// A quoted string, unescaped.
    String(String),
    Open,
    Close,
    Comma,
    Colon,
    Slash,
}

/// Tokens with their byte offsets in the filter text.
fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | ':' | '/' => {
                chars.next();
                let token = match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    ',' => Token::Comma,
                    ':' => Token::Colon,
                    _ => Token::Slash,
                };
                tokens.push((token, start));
            }
            '\'' => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(syntax_error(text, start)),
                        Some((_, '\'')) => {
                            if chars.peek().is_some_and(|&(_, c)| c == '\'') {
                                chars.next();
                                value.push('\'');
                            } else {
                                break;
                            }
                        }
                        Some((_, c)) => value.push(c),
                    }
                }
                tokens.push((Token::String(value), start));
            }
            c if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | '$' | '@') => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | '$' | '@') {
                        word.push(c);
                        chars.next();
                    } else {
                        break;
                    }
                }
                tokens.push((Token::Word(word), start));
            }
            _ => return Err(syntax_error(text, start)),
        }
    }
    Ok(tokens)
}

fn syntax_error(text: &str, position: usize) -> QueryError {
    QueryError::bad_request(format!(
        "Invalid filter clause: Syntax error at position {position} in '{text}'."
    ))
}

/// Operators Graph only accepts as advanced queries (or not at all on these resources).
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "ne", "not", "gt", "ge", "lt", "le", "has", "endswith", "contains", "all",
];

struct Parser<'s, 't> {
    tokens: Vec<(Token, usize)>,
    position: usize,
    schema: &'s FilterSchema,
    /// Inside `any`: the range variable's name and its element kind.
    range: Option<(String, Kind)>,
    text: &'t str,
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).map(|(t, _)| t.clone());
        self.position += 1;
        token
    }

    fn offset(&self) -> usize {
        self.tokens
            .get(self.position)
            .map(|(_, o)| *o)
            .unwrap_or(self.text.len())
    }

    fn syntax_error_here(&self) -> QueryError {
        syntax_error(self.text, self.offset())
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, token: Token) -> Result<(), QueryError> {
        if self.peek() == Some(&token) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.syntax_error_here())
        }
    }

    fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.position += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.primary()?;
        while self.peek_keyword("and") {
            self.position += 1;
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.expr()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("startswith") => {
                self.expect(Token::Open)?;
                let Some(Token::Word(name)) = self.next() else {
                    self.position -= 1;
                    return Err(self.syntax_error_here());
                };
                let (target, kind, property) = self.target(&name)?;
                if !matches!(kind, Kind::String | Kind::StringIgnoreCase) {
                    return Err(QueryError::unsupported_property(&property, self.schema.resource));
                }
                self.expect(Token::Comma)?;
                let prefix = match self.next() {
                    Some(Token::String(s)) => s,
                    _ => return Err(QueryError::unsupported_property(&property, self.schema.resource)),
                };
                self.expect(Token::Close)?;
                Ok(Expr::Compare {
                    target,
                    ignore_case: kind == Kind::StringIgnoreCase,
                    test: Test::StartsWith(prefix),
                })
            }
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("not") => Err(QueryError::unsupported(
                "Operator 'not' is not supported without advanced query parameters.",
            )),
            Some(Token::Word(word))
                if UNSUPPORTED_OPERATORS
                    .iter()
                    .any(|op| word.eq_ignore_ascii_case(op)) =>
            {
                Err(QueryError::unsupported(format!(
                    "Unsupported function or operator '{word}' in the filter."
                )))
            }
            Some(Token::Word(name)) => {
                if self.peek() == Some(&Token::Slash) {
                    return self.lambda(&name);
                }
                let (target, kind, property) = self.target(&name)?;
                if kind.is_collection() {
                    return Err(QueryError::unsupported_property(&property, self.schema.resource));
                }
                self.comparison(target, kind, &property)
            }
            _ => {
                self.position -= 1;
                Err(self.syntax_error_here())
            }
        }
    }

    /// A scalar target: the range variable or a schema property.
    fn target(&self, name: &str) -> Result<(Target, Kind, String), QueryError> {
        if let Some((variable, kind)) = &self.range {
            if name == variable {
                return Ok((Target::Item, *kind, name.to_owned()));
            }
            // Graph resolves only the range variable inside a lambda here.
            return Err(QueryError::unsupported_property(name, self.schema.resource));
        }
        match self.schema.lookup(name) {
            Some((canonical, kind)) => Ok((Target::Property(canonical), kind, canonical.to_owned())),
            None => Err(QueryError::unsupported_property(name, self.schema.resource)),
        }
    }

    fn comparison(&mut self, target: Target, kind: Kind, property: &str) -> Result<Expr, QueryError> {
        let ignore_case = kind == Kind::StringIgnoreCase;
        let operator = match self.next() {
            Some(Token::Word(w)) => w,
            _ => {
                self.position -= 1;
                return Err(self.syntax_error_here());
            }
        };
        if operator.eq_ignore_ascii_case("eq") {
            let literal = self.literal(kind, property)?;
            Ok(Expr::Compare {
                target,
                ignore_case,
                test: Test::Eq(literal),
            })
        } else if operator.eq_ignore_ascii_case("in") {
            self.expect(Token::Open)?;
            let mut literals = vec![self.literal(kind, property)?];
            while self.peek() == Some(&Token::Comma) {
                self.position += 1;
                literals.push(self.literal(kind, property)?);
            }
            self.expect(Token::Close)?;
            Ok(Expr::Compare {
                target,
                ignore_case,
                test: Test::In(literals),
            })
        } else if UNSUPPORTED_OPERATORS
            .iter()
            .any(|op| operator.eq_ignore_ascii_case(op))
        {
            Err(QueryError::unsupported_property(property, self.schema.resource))
        } else {
            self.position -= 1;
            Err(self.syntax_error_here())
        }
    }

    /// A literal of `kind`; a mismatch is an unsupported clause for `property`.
    fn literal(&mut self, kind: Kind, property: &str) -> Result<Literal, QueryError> {
        let literal = match self.next() {
            Some(Token::String(s)) => Literal::String(s),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Some(Token::Word(_)) => {
                return Err(QueryError::unsupported_property(property, self.schema.resource));
            }
            _ => {
                self.position -= 1;
                return Err(self.syntax_error_here());
            }
        };
        let fits = matches!(
            (&literal, kind.element()),
            (Literal::Bool(_), Kind::Bool) | (Literal::String(_), Kind::String | Kind::StringIgnoreCase)
        );
        if fits {
            Ok(literal)
        } else {
            Err(QueryError::unsupported_property(property, self.schema.resource))
        }
    }

    /// `collection/any(x: predicate)`.
    fn lambda(&mut self, name: &str) -> Result<Expr, QueryError> {
        if self.range.is_some() {
            return Err(QueryError::unsupported_property(name, self.schema.resource));
        }
        let (property, kind) = match self.schema.lookup(name) {
            Some((canonical, kind)) if kind.is_collection() => (canonical, kind),
            _ => return Err(QueryError::unsupported_property(name, self.schema.resource)),
        };
        self.expect(Token::Slash)?;
        match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("any") => {}
            Some(Token::Word(_)) => {
                return Err(QueryError::unsupported_property(property, self.schema.resource));
            }
            _ => {
                self.position -= 1;
                return Err(self.syntax_error_here());
            }
        }
        self.expect(Token::Open)?;
        let variable = match self.next() {
            Some(Token::Word(v)) => v,
            // `any()` without a predicate is not supported here.
            _ => return Err(QueryError::unsupported_property(property, self.schema.resource)),
        };
        self.expect(Token::Colon)?;
        self.range = Some((variable, kind.element()));
        let predicate = self.expr();
        self.range = None;
        let predicate = predicate.map_err(|e| {
            if e.code == "Request_UnsupportedQuery" {
                QueryError::unsupported_property(property, self.schema.resource)
            } else {
                e
            }
        })?;
        self.expect(Token::Close)?;
        Ok(Expr::Any {
            property,
            predicate: Box::new(predicate),
        })
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
mod tests {
    use super::*;

    const USERS: FilterSchema = FilterSchema {
        resource: "user",
        properties: &[
            ("mail", Kind::StringIgnoreCase),
            ("userPrincipalName", Kind::StringIgnoreCase),
            ("displayName", Kind::String),
            ("accountEnabled", Kind::Bool),
            ("proxyAddresses", Kind::StringsIgnoreCase),
            ("otherMails", Kind::Strings),
        ],
    };

    struct User {
        mail: Option<&'static str>,
        upn: &'static str,
        display_name: &'static str,
        enabled: bool,
        proxies: Vec<&'static str>,
        other_mails: Vec<&'static str>,
    }

    impl FilterSubject for User {
        fn value(&self, property: &str) -> PropertyValue<'_> {
            match property {
                "mail" => self
                    .mail
                    .map(PropertyValue::String)
                    .unwrap_or(PropertyValue::Null),
                "userPrincipalName" => PropertyValue::String(self.upn),
                "displayName" => PropertyValue::String(self.display_name),
                "accountEnabled" => PropertyValue::Bool(self.enabled),
                "proxyAddresses" => PropertyValue::Strings(self.proxies.clone()),
                "otherMails" => PropertyValue::Strings(self.other_mails.clone()),
                _ => PropertyValue::Null,
            }
        }
    }

    fn ann() -> User {
        User {
            mail: Some("Ann@Contoso.com"),
            upn: "ann@contoso.onmicrosoft.com",
            display_name: "Ann O'Neil",
            enabled: true,
            proxies: vec!["SMTP:ann@contoso.com", "smtp:a.smith@sales.contoso.com"],
            other_mails: vec!["ann@gmail.com"],
        }
    }

    fn matches(filter: &str, user: &User) -> bool {
        Filter::parse(filter, &USERS)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(user)
    }

    fn error(filter: &str) -> QueryError {
        Filter::parse(filter, &USERS).expect_err(filter)
    }

    #[test]
    fn eq_on_mail_and_upn_ignores_case() {
        assert!(matches("mail eq 'ann@contoso.com'", &ann()));
        assert!(matches(
            "userPrincipalName eq 'ANN@contoso.onmicrosoft.com'",
            &ann()
        ));
        assert!(!matches("mail eq 'bob@contoso.com'", &ann()));
    }

    #[test]
    fn eq_on_a_case_sensitive_string_is_exact() {
        assert!(matches("displayName eq 'Ann O''Neil'", &ann()));
        assert!(!matches("displayName eq 'ann o''neil'", &ann()));
    }

    #[test]
    fn a_null_property_matches_nothing() {
        let user = User { mail: None, ..ann() };
        assert!(!matches("mail eq 'ann@contoso.com'", &user));
        assert!(!matches("mail in ('ann@contoso.com')", &user));
    }

    #[test]
    fn booleans_compare_with_true_and_false() {
        assert!(matches("accountEnabled eq true", &ann()));
        assert!(!matches("accountEnabled eq false", &ann()));
        assert!(matches(
            "accountEnabled eq FALSE",
            &User {
                enabled: false,
                ..ann()
            }
        ));
    }

    #[test]
    fn any_matches_an_element_of_a_collection() {
        assert!(matches(
            "proxyAddresses/any(p:p eq 'smtp:ann@contoso.com')",
            &ann()
        ));
        assert!(matches(
            "proxyAddresses/any(x: x eq 'SMTP:A.SMITH@sales.contoso.com')",
            &ann()
        ));
        assert!(!matches(
            "proxyAddresses/any(p:p eq 'smtp:bob@contoso.com')",
            &ann()
        ));
        assert!(matches("otherMails/any(o:o eq 'ann@gmail.com')", &ann()));
        assert!(
            !matches("otherMails/any(o:o eq 'ANN@gmail.com')", &ann()),
            "otherMails is exact here"
        );
        assert!(matches(
            "otherMails/any(o:o in ('x@y.com', 'ann@gmail.com'))",
            &ann()
        ));
        assert!(matches("proxyAddresses/any(p:startsWith(p, 'smtp:a.'))", &ann()));
        assert!(matches(
            "proxyAddresses/any(p:p eq 'x' or p eq 'smtp:ann@contoso.com')",
            &ann()
        ));
    }

    #[test]
    fn in_matches_any_listed_value() {
        assert!(matches("mail in ('bob@contoso.com','ann@contoso.com')", &ann()));
        assert!(!matches("mail in ('bob@contoso.com')", &ann()));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        // false and true or true -> (false and true) or true -> true
        assert!(matches(
            "mail eq 'x' and accountEnabled eq true or userPrincipalName eq 'ann@contoso.onmicrosoft.com'",
            &ann()
        ));
        // false and (true or true) -> false
        assert!(!matches(
            "mail eq 'x' and (accountEnabled eq true or userPrincipalName eq 'ann@contoso.onmicrosoft.com')",
            &ann()
        ));
        assert!(matches("((mail eq 'ann@contoso.com'))", &ann()));
    }

    #[test]
    fn keywords_and_property_names_ignore_case() {
        assert!(matches(
            "MAIL EQ 'ann@contoso.com' AND accountenabled Eq true",
            &ann()
        ));
    }

    #[test]
    fn doubled_quotes_escape_a_quote() {
        let filter = Filter::parse("displayName eq 'O''Neil'''", &USERS).unwrap();
        assert!(filter.matches_with(|p| match p {
            "displayName" => PropertyValue::String("O'Neil'"),
            _ => PropertyValue::Null,
        }));
    }

    #[test]
    fn unknown_properties_are_unsupported_queries() {
        let e = error("jobTitle eq 'x'");
        assert_eq!(e.code, "Request_UnsupportedQuery");
        assert_eq!(
            e.message,
            "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'user'."
        );
        assert_eq!(
            error("assignedPlans/any(a:a/servicePlanId eq 'x')").code,
            "Request_UnsupportedQuery"
        );
    }

    #[test]
    fn advanced_operators_are_unsupported_queries() {
        for filter in [
            "mail ne 'x'",
            "not(mail eq 'x')",
            "endsWith(mail,'@contoso.com')",
            "proxyAddresses/all(p:p eq 'x')",
            "accountEnabled eq 'true'",
            "mail eq true",
            "mail eq null",
            "mail eq 42",
            "proxyAddresses eq 'x'",
            "mail/any(m:m eq 'x')",
            "proxyAddresses/any(p:mail eq 'x')",
            "startsWith(accountEnabled,'t')",
        ] {
            assert_eq!(error(filter).code, "Request_UnsupportedQuery", "{filter}");
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests_with_a_position() {
        for filter in [
            "",
            "mail eq",
            "mail eq 'x",
            "(mail eq 'x'",
            "mail eq 'x')",
            "mail eq 'x' and",
            "mail 'x'",
            "mail eq 'x' # 1",
        ] {
            assert_eq!(error(filter).code, "Request_BadRequest", "{filter:?}");
        }
        assert_eq!(
            error("mail eq").message,
            "Invalid filter clause: Syntax error at position 7 in 'mail eq'."
        );
    }

    #[test]
    fn properties_lists_what_the_filter_reads() {
        let f = Filter::parse(
            "mail eq 'a' or proxyAddresses/any(p:p eq 'b') or mail eq 'c'",
            &USERS,
        )
        .unwrap();
        assert_eq!(f.properties(), ["mail", "proxyAddresses"]);
    }

    #[test]
    fn query_options_are_decoded_and_looked_up_ignoring_case() {
        let q = QueryOptions::parse(Some(
            "%24select=id,mail&$TOP=5&$filter=mail+eq+%27a%2Bb%40c.com%27",
        ))
        .unwrap();
        assert_eq!(q.get("$select"), Some("id,mail"));
        assert_eq!(q.get("$top"), Some("5"));
        assert_eq!(q.get("$filter"), Some("mail eq 'a+b@c.com'"));
        assert_eq!(q.unsupported_system_options(&["$select", "$top"]), ["$filter"]);
        assert_eq!(
            QueryOptions::parse(Some("$top=1&$Top=2")).unwrap_err().code,
            "Request_BadRequest"
        );
    }

    #[test]
    fn top_must_be_within_bounds() {
        assert_eq!(parse_top(None, 100, 999), Ok(100));
        assert_eq!(parse_top(Some("1"), 100, 999), Ok(1));
        assert_eq!(parse_top(Some("999"), 100, 999), Ok(999));
        let e = parse_top(Some("1000"), 100, 999).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
        );
        assert!(parse_top(Some("0"), 100, 999).is_err());
        assert!(parse_top(Some("-1"), 100, 999).is_err());
        assert!(parse_top(Some("ten"), 100, 999).is_err());
    }

    #[test]
    fn skip_count_and_select_parse() {
        assert_eq!(parse_skip(None), Ok(0));
        assert_eq!(parse_skip(Some("20")), Ok(20));
        assert!(parse_skip(Some("-1")).is_err());
        assert_eq!(parse_count(Some("TRUE")), Ok(true));
        assert_eq!(parse_count(None), Ok(false));
        assert!(parse_count(Some("yes")).is_err());
        assert_eq!(parse_select(" id , mail").unwrap(), ["id", "mail"]);
        assert!(parse_select("id,,mail").is_err());
    }
}
