// The one gate between text and the error log: whatever GitHub, Pipedrive or Redis sent stays on
// its line and cannot steer a terminal.
#pragma once

#include <string>
#include <string_view>

namespace gist {

// `text` safe for one log line: C0 control bytes (CR, LF, TAB, ESC…), DEL, C1 controls
// (U+0080-U+009F), bytes that are not valid UTF-8, and the backslash itself become "\xHH" (one per
// byte, upper-case hex, as NGINX escapes its access log), so the escaping cannot be forged and
// the original bytes can be read back. Valid printable UTF-8 passes unchanged.
std::string log_safe(std::string_view text);

}  // namespace gist
