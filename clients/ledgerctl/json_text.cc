// Implementation of the JSON helpers (see json_text.h).
#include "clients/ledgerctl/json_text.h"

#include <cctype>
#include <cstdio>

#include "google/protobuf/struct.pb.h"
#include "clients/ledgerctl/errors.h"
#include "google/protobuf/util/json_util.h"

namespace ledgerctl {
namespace {

// A strict RFC 8259 grammar check. protobuf's JSON parser (used after it, for
// duplicate keys and surrogates) accepts single quotes, unquoted keys, trailing
// commas and "1."; stored payloads must parse anywhere, so those are refused.
class StrictJsonChecker {
 public:
  explicit StrictJsonChecker(std::string_view text) : text_(text) {}

  // Empty when the whole text is one JSON value, else where and what is wrong.
  std::string Check() {
    SkipSpace();
    if (!Value()) return Where();
    SkipSpace();
    if (pos_ == text_.size()) return "";
    Fail("unexpected text after the JSON value");
    return Where();
  }

 private:
  bool Value() {
    if (++depth_ > 200) return Fail("nested too deeply");
    bool ok = Dispatch();
    --depth_;
    return ok;
  }

  bool Dispatch() {
    if (pos_ >= text_.size()) return Fail("expected a value, found the end of the input");
    switch (text_[pos_]) {
      case '{': return Object();
      case '[': return Array();
      case '"': return String();
      case 't': return Word("true");
      case 'f': return Word("false");
      case 'n': return Word("null");
      default: return Number();
    }
  }

  bool Object() {
    ++pos_;
    SkipSpace();
    if (Eat('}')) return true;
    do {
      SkipSpace();
      if (Peek() != '"') return Fail("expected a \"quoted\" key");
      if (!String()) return false;
      SkipSpace();
      if (!Eat(':')) return Fail("expected ':' after the key");
      SkipSpace();
      if (!Value()) return false;
      SkipSpace();
    } while (Eat(','));
    return Eat('}') || Fail("expected ',' or '}'");
  }

  bool Array() {
    ++pos_;
    SkipSpace();
    if (Eat(']')) return true;
    do {
      SkipSpace();
      if (!Value()) return false;
      SkipSpace();
    } while (Eat(','));
    return Eat(']') || Fail("expected ',' or ']'");
  }

  bool String() {
    ++pos_;
    while (pos_ < text_.size()) {
      unsigned char c = static_cast<unsigned char>(text_[pos_++]);
      if (c == '"') return true;
      if (c < 0x20) {
        --pos_;
        return Fail("control character inside a string");
      }
      if (c == '\\' && !Escape()) return false;
    }
    return Fail("unterminated string");
  }

  bool Escape() {
    char c = Peek();
    ++pos_;
    if (c != 0 && std::string_view("\"\\/bfnrt").find(c) != std::string_view::npos) return true;
    if (c != 'u') {
      --pos_;
      return Fail("invalid escape sequence");
    }
    for (int i = 0; i < 4; ++i, ++pos_) {
      if (!std::isxdigit(static_cast<unsigned char>(Peek()))) return Fail("invalid \\u escape");
    }
    return true;
  }

  bool Number() {
    Eat('-');
    if (Eat('0')) {
      if (std::isdigit(static_cast<unsigned char>(Peek()))) return Fail("leading zero in a number");
    } else if (!Digits()) {
      return Fail("expected a value");
    }
    if (Eat('.') && !Digits()) return Fail("expected digits after '.'");
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return Fail("expected digits in the exponent");
    }
    return true;
  }

  bool Digits() {
    size_t start = pos_;
    while (std::isdigit(static_cast<unsigned char>(Peek()))) ++pos_;
    return pos_ > start;
  }

  bool Word(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("expected a value");
    pos_ += word.size();
    return true;
  }

  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c || pos_ >= text_.size()) return false;
    ++pos_;
    return true;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && std::string_view(" \t\r\n").find(text_[pos_]) != std::string_view::npos) ++pos_;
  }
  bool Fail(const char* problem) {
    if (problem_.empty()) problem_ = problem;
    return false;
  }
  std::string Where() const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      column = text_[i] == '\n' ? 1 : column + 1;
      line += text_[i] == '\n';
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + problem_;
  }

  std::string_view text_;
  size_t pos_ = 0;
  int depth_ = 0;
  std::string problem_;
};

}  // namespace

std::string JsonError(std::string_view text) {
  if (std::string strict = StrictJsonChecker(text).Check(); !strict.empty()) return strict;
  google::protobuf::Value value;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), &value);
  if (status.ok()) return "";
  std::string message(status.message());
  message = message.substr(0, message.find('\n'));  // drop protobuf's caret drawing
  return message.empty() ? "not valid JSON" : message;
}

std::string CompactJson(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      out.push_back(c);
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push_back(c);
    }
  }
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
  return out;
}

void JsonObject::Key(std::string_view key) {
  if (body_.size() > 1) body_.push_back(',');
  body_ += JsonQuote(key);
  body_.push_back(':');
}

JsonObject& JsonObject::String(std::string_view key, std::string_view value) {
  Key(key);
  body_ += JsonQuote(value);
  return *this;
}

JsonObject& JsonObject::Uint(std::string_view key, uint64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Int(std::string_view key, int64_t value) {
  Key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonObject& JsonObject::Bool(std::string_view key, bool value) {
  Key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::Raw(std::string_view key, std::string_view json) {
  Key(key);
  body_ += json;
  return *this;
}

std::string ProtoJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) throw CliError(kExitServerError, "cannot print JSON: " + status.ToString());
  return json;
}

}  // namespace ledgerctl
