// Constraint expressions of a sweep file: a small, total language over the axis values of one
// design point, e.g. "rows * cols <= 1024 && (style != \"bit_serial\" || bits <= 8)".
//
//   expr    := or
//   or      := and ('||' and)*          and := not ('&&' not)*
//   not     := '!' not | compare        compare := sum (('<'|'<='|'>'|'>='|'=='|'!=') sum)?
//   sum     := product (('+'|'-') product)*
//   product := unary (('*'|'/'|'%') unary)*
//   unary   := '-' unary | primary
//   primary := number | 'string' | "string" | true | false | name | '(' expr ')'
//
// Names are axis names. Values are numbers, strings or booleans; mixing them (a string in
// arithmetic, a number where a condition is expected) is an error, as is division by zero.
// Parsing checks syntax and names; evaluation checks types.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mixprec::sweep {

struct ExprNode;

class Expr {
 public:
  // Throws std::invalid_argument with the position and what was expected.
  static Expr parse(const std::string& text, const std::vector<std::string>& names);
  // Evaluates to a boolean; `values[i]` is the value of names[i] (number, string or bool).
  // Throws std::invalid_argument on a type error.
  bool holds(const std::vector<nlohmann::json>& values) const;
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<const ExprNode> root_;
  std::string text_;
};

}  // namespace mixprec::sweep
