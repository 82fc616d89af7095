// A Redis reply as a plain value, so callers never touch hiredis types.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gist {

struct RedisValue {
    enum class Type { nil, status, error, integer, string, array };

    Type type = Type::nil;
    std::string str;                 // status, error and string replies
    std::int64_t integer = 0;
    std::vector<RedisValue> elements;  // array replies

    bool is_error() const { return type == Type::error; }
    bool is_nil() const { return type == Type::nil; }
};

}  // namespace gist
