#include "search/sweep_expr.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>
#include <variant>

namespace mixprec::sweep {

using nlohmann::json;

namespace {

enum class Op { Or, And, Not, Neg, Lt, Le, Gt, Ge, Eq, Ne, Add, Sub, Mul, Div, Mod };

const char* op_text(Op o) {
  switch (o) {
    case Op::Or: return "||";
    case Op::And: return "&&";
    case Op::Not: return "!";
    case Op::Neg: return "-";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
  }
  return "?";
}

// A value during evaluation.
using Value = std::variant<double, std::string, bool>;

std::string type_name(const Value& v) {
  if (std::holds_alternative<double>(v)) return "a number";
  if (std::holds_alternative<std::string>(v)) return "a string";
  return "a boolean";
}

}  // namespace

struct ExprNode {
  enum Kind { Literal, Name, Unary, Binary } kind = Literal;
  Value literal;
  int name = -1;
  std::string name_text;
  Op op = Op::Add;
  std::shared_ptr<const ExprNode> a, b;
};

namespace {

using NodeP = std::shared_ptr<const ExprNode>;

class Parser {
 public:
  Parser(const std::string& s, const std::vector<std::string>& names) : s_(s), names_(names) {}

  NodeP parse() {
    if (s_.size() > kMaxExprChars)
      throw std::invalid_argument("expected an expression of at most " + std::to_string(kMaxExprChars) +
                                  " characters, found " + std::to_string(s_.size()));
    NodeP n = parse_or();
    skip();
    if (pos_ != s_.size()) fail("an operator or the end of the expression");
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    std::string found = pos_ >= s_.size() ? "the end" : "'" + s_.substr(pos_, 12) + "'";
    throw std::invalid_argument("at character " + std::to_string(pos_ + 1) + ": expected " +
                                expected + ", found " + found);
  }
  // Parentheses and prefix operators recurse: their nesting is bounded so that neither the parser
  // nor the evaluation (also recursive) can run out of stack; the length bound keeps chains of
  // binary operators (left-deep trees) short too.
  static constexpr std::size_t kMaxExprChars = 4096;
  static constexpr int kMaxNesting = 64;
  struct Nest {
    explicit Nest(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxNesting)
        p_.fail("at most " + std::to_string(kMaxNesting) + " nested parentheses or prefix operators");
    }
    ~Nest() { --p_.nesting_; }
    Parser& p_;
  };
  void skip() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  bool eat(const char* tok) {
    skip();
    const std::size_t n = std::char_traits<char>::length(tok);
    if (s_.compare(pos_, n, tok) != 0) return false;
    // '<' must not match the start of '<=', '!' not '!=', '=' alone is not an operator.
    if (n == 1 && pos_ + 1 < s_.size() && s_[pos_ + 1] == '=' &&
        (tok[0] == '<' || tok[0] == '>' || tok[0] == '!'))
      return false;
    pos_ += n;
    return true;
  }
  static NodeP binary(Op op, NodeP a, NodeP b) {
    auto n = std::make_shared<ExprNode>();
    n->kind = ExprNode::Binary;
    n->op = op;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }
  static NodeP unary(Op op, NodeP a) {
    auto n = std::make_shared<ExprNode>();
    n->kind = ExprNode::Unary;
    n->op = op;
    n->a = std::move(a);
    return n;
  }
  NodeP parse_or() {
    NodeP n = parse_and();
    while (eat("||")) n = binary(Op::Or, n, parse_and());
    return n;
  }
  NodeP parse_and() {
    NodeP n = parse_not();
    while (eat("&&")) n = binary(Op::And, n, parse_not());
    return n;
  }
  NodeP parse_not() {
    if (eat("!")) {
      Nest nest(*this);
      return unary(Op::Not, parse_not());
    }
    return parse_compare();
  }
  NodeP parse_compare() {
    NodeP n = parse_sum();
    static const std::pair<const char*, Op> ops[] = {{"<=", Op::Le}, {">=", Op::Ge}, {"==", Op::Eq},
                                                     {"!=", Op::Ne}, {"<", Op::Lt},  {">", Op::Gt}};
    for (const auto& [t, op] : ops)
      if (eat(t)) return binary(op, n, parse_sum());
    skip();
    if (pos_ < s_.size() && s_[pos_] == '=') fail("'==' (a single '=' is not an operator)");
    return n;
  }
  NodeP parse_sum() {
    NodeP n = parse_product();
    for (;;) {
      if (eat("+")) n = binary(Op::Add, n, parse_product());
      else if (eat("-")) n = binary(Op::Sub, n, parse_product());
      else return n;
    }
  }
  NodeP parse_product() {
    NodeP n = parse_unary();
    for (;;) {
      if (eat("*")) n = binary(Op::Mul, n, parse_unary());
      else if (eat("/")) n = binary(Op::Div, n, parse_unary());
      else if (eat("%")) n = binary(Op::Mod, n, parse_unary());
      else return n;
    }
  }
  NodeP parse_unary() {
    if (eat("-")) {
      Nest nest(*this);
      return unary(Op::Neg, parse_unary());
    }
    return parse_primary();
  }
  NodeP parse_primary() {
    skip();
    if (eat("(")) {
      Nest nest(*this);
      NodeP n = parse_or();
      if (!eat(")")) fail("')'");
      return n;
    }
    auto n = std::make_shared<ExprNode>();
    if (pos_ >= s_.size()) fail("a number, a string, a name or '('");
    const char c = s_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(s_.substr(pos_), &used);
      } catch (const std::exception&) {
        fail("a number");
      }
      pos_ += used;
      n->literal = v;
      return n;
    }
    if (c == '\'' || c == '"') {
      const std::size_t end = s_.find(c, pos_ + 1);
      if (end == std::string::npos) fail(std::string("a closing ") + c);
      n->literal = s_.substr(pos_ + 1, end - pos_ - 1);
      pos_ = end + 1;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t end = pos_;
      while (end < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[end])) || s_[end] == '_' || s_[end] == '.'))
        ++end;
      const std::string word = s_.substr(pos_, end - pos_);
      if (word == "true" || word == "false") {
        n->literal = (word == "true");
        pos_ = end;
        return n;
      }
      for (std::size_t i = 0; i < names_.size(); ++i)
        if (names_[i] == word) {
          n->kind = ExprNode::Name;
          n->name = static_cast<int>(i);
          n->name_text = word;
          pos_ = end;
          return n;
        }
      std::string known;
      for (const auto& nm : names_) known += (known.empty() ? "" : ", ") + nm;
      throw std::invalid_argument("at character " + std::to_string(pos_ + 1) + ": unknown name '" +
                                  word + "' (axis names: " + known + ")");
    }
    fail("a number, a string, a name or '('");
  }

  const std::string& s_;
  const std::vector<std::string>& names_;
  std::size_t pos_ = 0;
  int nesting_ = 0;
};

Value from_json(const json& v, const std::string& name) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  throw std::invalid_argument("axis '" + name + "' has a value (" + v.dump() +
                              ") that a constraint cannot use: expected a number, string or boolean");
}

Value eval(const ExprNode& n, const std::vector<json>& values) {
  switch (n.kind) {
    case ExprNode::Literal:
      return n.literal;
    case ExprNode::Name:
      return from_json(values.at(static_cast<std::size_t>(n.name)), n.name_text);
    case ExprNode::Unary: {
      const Value a = eval(*n.a, values);
      if (n.op == Op::Not) {
        if (!std::holds_alternative<bool>(a))
          throw std::invalid_argument("'!' needs a condition, found " + type_name(a));
        return !std::get<bool>(a);
      }
      if (!std::holds_alternative<double>(a))
        throw std::invalid_argument("unary '-' needs a number, found " + type_name(a));
      return -std::get<double>(a);
    }
    case ExprNode::Binary:
      break;
  }
  const Value a = eval(*n.a, values);
  if (n.op == Op::And || n.op == Op::Or) {
    if (!std::holds_alternative<bool>(a))
      throw std::invalid_argument(std::string("'") + op_text(n.op) + "' needs conditions, found " +
                                  type_name(a));
    const bool av = std::get<bool>(a);
    if (n.op == Op::And && !av) return false;  // short-circuit
    if (n.op == Op::Or && av) return true;
    const Value b = eval(*n.b, values);
    if (!std::holds_alternative<bool>(b))
      throw std::invalid_argument(std::string("'") + op_text(n.op) + "' needs conditions, found " +
                                  type_name(b));
    return std::get<bool>(b);
  }
  const Value b = eval(*n.b, values);
  if (n.op == Op::Eq || n.op == Op::Ne) {
    if (a.index() != b.index())
      throw std::invalid_argument(std::string("'") + op_text(n.op) + "' compares " + type_name(a) +
                                  " with " + type_name(b));
    const bool eq = (a == b);
    return n.op == Op::Eq ? eq : !eq;
  }
  if (!std::holds_alternative<double>(a) || !std::holds_alternative<double>(b))
    throw std::invalid_argument(std::string("'") + op_text(n.op) + "' needs numbers, found " +
                                type_name(a) + " and " + type_name(b));
  const double x = std::get<double>(a), y = std::get<double>(b);
  switch (n.op) {
    case Op::Lt: return x < y;
    case Op::Le: return x <= y;
    case Op::Gt: return x > y;
    case Op::Ge: return x >= y;
    case Op::Add: return x + y;
    case Op::Sub: return x - y;
    case Op::Mul: return x * y;
    case Op::Div:
    case Op::Mod:
      if (y == 0) throw std::invalid_argument(std::string("'") + op_text(n.op) + "' by zero");
      return n.op == Op::Div ? x / y : std::fmod(x, y);
    default:
      break;
  }
  throw std::invalid_argument("internal: unhandled operator");
}

}  // namespace

Expr Expr::parse(const std::string& text, const std::vector<std::string>& names) {
  Expr e;
  e.text_ = text;
  e.root_ = Parser(text, names).parse();
  return e;
}

bool Expr::holds(const std::vector<json>& values) const {
  const Value v = eval(*root_, values);
  if (!std::holds_alternative<bool>(v))
    throw std::invalid_argument("the constraint is " + type_name(v) + ", not a condition");
  return std::get<bool>(v);
}

}  // namespace mixprec::sweep
