#include "gist/deal_note.hpp"

#include "gist/deal_text.hpp"

namespace gist {

namespace {

bool is_web_url(std::string_view url) {
    return url.substr(0, 8) == "https://" || url.substr(0, 7) == "http://";
}

std::string text(std::string_view raw) { return html_escape(drop_invisible(sanitize_utf8(raw))); }

}  // namespace

std::string deal_note_html(const Gist& gist, std::string_view login) {
    std::string html = "<p>GitHub gist ";
    if (is_web_url(gist.html_url)) {
        html += "<a href=\"" + text(gist.html_url) + "\">" + text(gist.id) + "</a>";
    } else {
        html += text(gist.id);
        if (!gist.html_url.empty()) {
            html += " (" + text(gist.html_url) + ")";
        }
    }
    html += " by " + text(login) + "</p>";

    if (gist.description) {
        const std::string description = single_line(sanitize_utf8(*gist.description));
        if (!description.empty()) {
            html += "<p>" + html_escape(description) + "</p>";
        }
    }

    if (gist.files.empty()) {
        html += "<p>No files.</p>";
        return html;
    }
    html += "<p>Files:</p><ul>";
    std::size_t listed = 0;
    for (const std::string& file : gist.files) {
        if (listed == max_note_files) {
            break;
        }
        html += "<li>" + text(file) + "</li>";
        ++listed;
    }
    html += "</ul>";
    const std::size_t more = gist.files.size() - listed;
    if (more > 0 || gist.truncated) {
        html += "<p>";
        if (more > 0) {
            html += "and " + std::to_string(more) + " more file" + (more == 1 ? "" : "s");
            html += gist.truncated ? "; " : ".";
        }
        if (gist.truncated) {
            html += "GitHub lists only the first files of this gist.";
        }
        html += "</p>";
    }
    return html;
}

}  // namespace gist
