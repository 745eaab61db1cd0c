//! Working out an expression with the saved variables.

use std::collections::{BTreeMap, HashSet};

use super::calculator::Expression;

/// How many operations deep an expression may nest. A JSON request cannot nest much
/// deeper than half this (the JSON reader stops at 128 levels of objects); a binary one
/// could, and its tape line would then be costly to write out and read back.
pub(super) const MAX_NESTING: usize = 100;

/// How many operations deep `expression` nests (0 for a constant or a variable),
/// counted no further than one past [`MAX_NESTING`].
pub(super) fn nesting(expression: &Expression) -> usize {
    let (left, right) = match expression {
        Expression::Constant(_) | Expression::Variable(_) => return 0,
        Expression::Add(add) => (&add.left, &add.right),
        Expression::Sub(sub) => (&sub.left, &sub.right),
        Expression::Mul(mul) => (&mul.left, &mul.right),
        Expression::Div(div) => (&div.left, &div.right),
    };
    let left = nesting(left);
    if left > MAX_NESTING {
        return left + 1;
    }
    1 + left.max(nesting(right))
}

/// Why an expression has no value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure {
    /// Variables it names that are not saved, each once, in the order first named.
    UnknownVariables(Vec<String>),
    /// It divides by zero.
    DivisionByZero,
    /// Its value is too large for a number (the wire has no infinity).
    OutOfRange,
}

/// The value of `expression`. Unknown variables anywhere in it are reported before a
/// division by zero, so the caller learns every name to save at once.
pub(super) fn evaluate(
    expression: &Expression,
    variables: &BTreeMap<String, f64>,
) -> Result<f64, Failure> {
    match value_of(expression, variables) {
        Ok(value) if value.is_finite() => Ok(value),
        Ok(_) => Err(Failure::OutOfRange),
        Err(Failure::UnknownVariables(mut names)) => {
            let mut seen = HashSet::new();
            names.retain(|name| seen.insert(name.clone()));
            Err(Failure::UnknownVariables(names))
        }
        Err(failure) => Err(failure),
    }
}

/// The value of `expression`, which may be infinite when the operations overflow.
/// Unknown variables are listed as often as they are named.
fn value_of(expression: &Expression, variables: &BTreeMap<String, f64>) -> Result<f64, Failure> {
    let (operator, left, right): (Operator, _, _) = match expression {
        Expression::Constant(constant) => return Ok(constant.value),
        Expression::Variable(variable) => {
            return variables
                .get(&variable.name)
                .copied()
                .ok_or_else(|| Failure::UnknownVariables(vec![variable.name.clone()]));
        }
        Expression::Add(add) => (|a, b| Ok(a + b), &add.left, &add.right),
        Expression::Sub(sub) => (|a, b| Ok(a - b), &sub.left, &sub.right),
        Expression::Mul(mul) => (|a, b| Ok(a * b), &mul.left, &mul.right),
        Expression::Div(div) => (divide, &div.left, &div.right),
    };
    let (left, right) = both(value_of(left, variables), value_of(right, variables))?;
    operator(left, right)
}

/// What an operation does with its operands' values.
type Operator = fn(f64, f64) -> Result<f64, Failure>;

fn divide(dividend: f64, divisor: f64) -> Result<f64, Failure> {
    if divisor == 0.0 {
        Err(Failure::DivisionByZero)
    } else {
        Ok(dividend / divisor)
    }
}

/// Both operands, or the failure that explains most: unknown variables from either
/// side (both sides' together) before any other failure.
fn both(left: Result<f64, Failure>, right: Result<f64, Failure>) -> Result<(f64, f64), Failure> {
    match (left, right) {
        (Ok(left), Ok(right)) => Ok((left, right)),
        (Err(Failure::UnknownVariables(mut names)), Err(Failure::UnknownVariables(more))) => {
            names.extend(more);
            Err(Failure::UnknownVariables(names))
        }
        (Err(unknown @ Failure::UnknownVariables(_)), _)
        | (_, Err(unknown @ Failure::UnknownVariables(_))) => Err(unknown),
        (Err(failure), _) | (_, Err(failure)) => Err(failure),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::demo::calculator::{
        ExpressionAdd, ExpressionConstant, ExpressionDiv, ExpressionMul, ExpressionSub,
        ExpressionVariable,
    };

    pub(in crate::demo) fn constant(value: f64) -> Expression {
        Expression::Constant(ExpressionConstant { value })
    }

    pub(in crate::demo) fn variable(name: &str) -> Expression {
        Expression::Variable(ExpressionVariable {
            name: name.to_string(),
        })
    }

    pub(in crate::demo) fn add(left: Expression, right: Expression) -> Expression {
        let (left, right) = (Box::new(left), Box::new(right));
        Expression::Add(ExpressionAdd { left, right })
    }

    fn sub(left: Expression, right: Expression) -> Expression {
        let (left, right) = (Box::new(left), Box::new(right));
        Expression::Sub(ExpressionSub { left, right })
    }

    fn mul(left: Expression, right: Expression) -> Expression {
        let (left, right) = (Box::new(left), Box::new(right));
        Expression::Mul(ExpressionMul { left, right })
    }

    fn div(left: Expression, right: Expression) -> Expression {
        let (left, right) = (Box::new(left), Box::new(right));
        Expression::Div(ExpressionDiv { left, right })
    }

    fn saved(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), *value))
            .collect()
    }

    fn unknown(names: &[&str]) -> Result<f64, Failure> {
        Err(Failure::UnknownVariables(
            names.iter().map(|name| name.to_string()).collect(),
        ))
    }

    #[test]
    fn the_four_operations_with_constants_and_variables() {
        let variables = saved(&[("a", 6.0), ("b", 4.0)]);
        let expression = div(
            mul(
                add(variable("a"), constant(2.0)),
                sub(variable("b"), constant(1.0)),
            ),
            constant(8.0),
        );
        assert_eq!(evaluate(&expression, &variables), Ok(3.0));
    }

    #[test]
    fn every_unknown_variable_is_named_once_in_the_order_first_named() {
        let expression = add(
            mul(variable("y"), variable("known")),
            add(variable("x"), div(variable("y"), constant(0.0))),
        );
        let variables = saved(&[("known", 1.0)]);
        assert_eq!(evaluate(&expression, &variables), unknown(&["y", "x"]));
    }

    #[test]
    fn unknown_variables_come_before_a_division_by_zero() {
        let expression = add(div(constant(1.0), constant(0.0)), variable("z"));
        assert_eq!(evaluate(&expression, &saved(&[])), unknown(&["z"]));
        let expression = add(div(constant(1.0), constant(0.0)), constant(2.0));
        assert_eq!(
            evaluate(&expression, &saved(&[])),
            Err(Failure::DivisionByZero)
        );
        let expression = div(constant(1.0), sub(variable("a"), variable("a")));
        let variables = saved(&[("a", 5.0)]);
        assert_eq!(
            evaluate(&expression, &variables),
            Err(Failure::DivisionByZero)
        );
    }

    /// `n` additions, each inside the left side of the next.
    pub(in crate::demo) fn nested(n: usize) -> Expression {
        (0..n).fold(constant(1.0), |inner, _| add(inner, constant(1.0)))
    }

    #[test]
    fn nesting_counts_operations_on_the_deepest_side() {
        assert_eq!(nesting(&variable("a")), 0);
        assert_eq!(nesting(&add(constant(1.0), nested(3))), 4);
        assert_eq!(nesting(&nested(MAX_NESTING)), MAX_NESTING);
        assert!(nesting(&nested(MAX_NESTING + 50)) > MAX_NESTING);
    }

    #[test]
    fn a_result_past_the_largest_number_is_out_of_range() {
        let expression = mul(constant(f64::MAX), constant(2.0));
        assert_eq!(evaluate(&expression, &saved(&[])), Err(Failure::OutOfRange));
        // Overflow on the way that comes back within range is still out of range:
        // infinity minus infinity is not a number.
        let huge = mul(constant(f64::MAX), constant(2.0));
        let expression = sub(huge.clone(), huge);
        assert_eq!(evaluate(&expression, &saved(&[])), Err(Failure::OutOfRange));
    }
}
