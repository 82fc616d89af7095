#include "gist/deal_title.hpp"

#include "gist/deal_text.hpp"

namespace gist {

namespace {

constexpr std::string_view no_description = "(no description)";

std::string what_of(const std::optional<std::string>& description,
                    const std::vector<std::string>& files) {
    if (description) {
        std::string line = single_line(sanitize_utf8(*description));
        if (!line.empty()) {
            return line;
        }
    }
    for (const std::string& file : files) {
        std::string line = single_line(sanitize_utf8(file));
        if (!line.empty()) {
            return line;
        }
    }
    return std::string(no_description);
}

}  // namespace

std::string deal_title(std::string_view gist_id, std::string_view login,
                       const std::optional<std::string>& description,
                       const std::vector<std::string>& files, std::size_t max_bytes) {
    std::string title = "Gist ";
    title += sanitize_utf8(gist_id);
    std::string by = " by ";
    by += sanitize_utf8(login);
    by += ": ";
    // Ids and logins are short ASCII in practice; when even they do not fit, the id wins.
    if (title.size() + by.size() + 1 > max_bytes) {
        return title;
    }
    title += by;
    title += truncate_utf8(what_of(description, files), max_bytes - title.size());
    return title;
}

std::string deal_title(const Gist& gist, std::string_view login) {
    return deal_title(gist.id, login, gist.description, gist.files);
}

bool is_deal_title_for_gist(std::string_view title, std::string_view gist_id) {
    if (gist_id.empty()) {
        return false;
    }
    std::string core = "Gist ";
    core += gist_id;
    if (title == core) {
        return true;
    }
    core += " by ";
    return title.substr(0, core.size()) == core;
}

}  // namespace gist
