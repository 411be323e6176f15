//! The `$filter` tokenizer and recursive-descent parser.

use super::*;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Token {
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
pub(super) fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, QueryError> {
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

pub(super) fn syntax_error(text: &str, position: usize) -> QueryError {
    QueryError::bad_request(format!(
        "Invalid filter clause: Syntax error at position {position} in '{text}'."
    ))
}

/// Operators Graph only accepts as advanced queries (or not at all on these resources).
pub(super) const UNSUPPORTED_OPERATORS: &[&str] = &[
    "ne", "not", "gt", "ge", "lt", "le", "has", "endswith", "contains", "all",
];

/// The deepest nesting of parentheses (and `any` predicates) a filter may have.
pub(super) const MAX_DEPTH: usize = 32;
/// The most clauses (comparisons, groups, lambdas) a filter may have.
pub(super) const MAX_CLAUSES: usize = 100;

pub(super) struct Parser<'s, 't> {
    pub(super) tokens: Vec<(Token, usize)>,
    pub(super) position: usize,
    pub(super) schema: &'s FilterSchema,
    /// Inside `any`: the range variable's name and its element kind.
    pub(super) range: Option<(String, Kind)>,
    pub(super) text: &'t str,
    /// Groups open around the current position.
    pub(super) depth: usize,
    /// Clauses read so far.
    pub(super) clauses: usize,
}

impl Parser<'_, '_> {
    pub(super) fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position).map(|(t, _)| t)
    }

    pub(super) fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).map(|(t, _)| t.clone());
        self.position += 1;
        token
    }

    pub(super) fn offset(&self) -> usize {
        self.tokens
            .get(self.position)
            .map(|(_, o)| *o)
            .unwrap_or(self.text.len())
    }

    pub(super) fn syntax_error_here(&self) -> QueryError {
        syntax_error(self.text, self.offset())
    }

    pub(super) fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    pub(super) fn expect(&mut self, token: Token) -> Result<(), QueryError> {
        if self.peek() == Some(&token) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.syntax_error_here())
        }
    }

    pub(super) fn expr(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.position += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    pub(super) fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.primary()?;
        while self.peek_keyword("and") {
            self.position += 1;
            let right = self.primary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// Parsing recurses once per group and builds one tree level per clause, so both are
    /// bounded: a filter of a hundred thousand parentheses or clauses overflowed the stack of the
    /// thread serving it and took the whole sandbox down.
    fn count_clause(&mut self) -> Result<(), QueryError> {
        self.clauses += 1;
        if self.clauses > MAX_CLAUSES || self.depth > MAX_DEPTH {
            return Err(QueryError::bad_request(format!(
                "Invalid filter clause: the filter has more than {MAX_CLAUSES} clauses or nests deeper than {MAX_DEPTH} levels."
            )));
        }
        Ok(())
    }

    pub(super) fn primary(&mut self) -> Result<Expr, QueryError> {
        self.count_clause()?;
        match self.next() {
            Some(Token::Open) => {
                self.depth += 1;
                let inner = self.expr()?;
                self.depth -= 1;
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
    pub(super) fn target(&self, name: &str) -> Result<(Target, Kind, String), QueryError> {
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

    pub(super) fn comparison(
        &mut self,
        target: Target,
        kind: Kind,
        property: &str,
    ) -> Result<Expr, QueryError> {
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
    pub(super) fn literal(&mut self, kind: Kind, property: &str) -> Result<Literal, QueryError> {
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
    pub(super) fn lambda(&mut self, name: &str) -> Result<Expr, QueryError> {
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
        self.depth += 1;
        let predicate = self.expr();
        self.depth -= 1;
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
