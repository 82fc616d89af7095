// Where the core writes log lines. NGINX routes them to the cycle's error log.
#pragma once

#include <string_view>

namespace gist {

enum class LogLevel { error, warn, notice, info, debug };

class Logger {
public:
    virtual ~Logger() = default;
    virtual void log(LogLevel level, std::string_view message) = 0;
};

// Discards everything; the default for tests that do not look at logs.
class NullLogger final : public Logger {
public:
    void log(LogLevel, std::string_view) override {}
};

}  // namespace gist
