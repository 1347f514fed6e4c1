// Protobuf logs every string field with invalid UTF-8 it parses; fuzz inputs
// are full of them, and writing each to stderr slows a target down many
// times. The targets that parse protobuf call this from LLVMFuzzerInitialize.
#ifndef FUZZ_QUIET_PROTOBUF_H_
#define FUZZ_QUIET_PROTOBUF_H_

#include "google/protobuf/stubs/logging.h"

namespace fuzz {

inline void QuietProtobuf() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace fuzz

#endif  // FUZZ_QUIET_PROTOBUF_H_
