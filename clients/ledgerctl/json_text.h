// JSON helpers: validating a payload, compacting it to one line, and writing
// the JSON Lines output of --json without re-encoding payload numbers.
#ifndef CLIENTS_LEDGERCTL_JSON_TEXT_H_
#define CLIENTS_LEDGERCTL_JSON_TEXT_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace google::protobuf {
class Message;
}

namespace ledgerctl {

// One line of proto3 JSON (proto field names, default values printed).
std::string ProtoJson(const google::protobuf::Message& message);


// Empty if `text` is one valid JSON value; otherwise the parser's complaint.
std::string JsonError(std::string_view text);

// `text` (valid JSON) without the whitespace between tokens; strings and
// numbers are kept byte for byte.
std::string CompactJson(std::string_view text);

// `text` as a quoted JSON string literal.
std::string JsonQuote(std::string_view text);

// Builds one JSON object, field by field, in the order given.
class JsonObject {
 public:
  JsonObject& String(std::string_view key, std::string_view value);
  JsonObject& Uint(std::string_view key, uint64_t value);
  JsonObject& Int(std::string_view key, int64_t value);
  JsonObject& Bool(std::string_view key, bool value);
  // `json` must already be valid JSON (an object, a number, ...).
  JsonObject& Raw(std::string_view key, std::string_view json);
  std::string Build() const { return body_ + "}"; }

 private:
  void Key(std::string_view key);
  std::string body_ = "{";
};

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_JSON_TEXT_H_
