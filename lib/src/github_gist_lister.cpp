#include "gist/github_gist_lister.hpp"

#include "gist/metrics.hpp"

#include "gist/github_gists_page.hpp"
#include "gist/link_header.hpp"

#include <unordered_set>
#include <utility>

namespace gist {

std::vector<Gist> GistListing::all_gists() const {
    std::vector<Gist> out;
    std::unordered_set<std::string> ids;
    for (const auto& page : pages) {
        for (const auto& g : page.gists) {
            // A gist created while we paginate shifts the pages: the same gist can show up twice.
            if (ids.insert(g.id).second) {
                out.push_back(g);
            }
        }
    }
    return out;
}

GithubGistLister::GithubGistLister(HttpClient& http, const GithubSettings& settings, EventLoop& loop)
    : http_(http), settings_(settings), loop_(loop) {}

GithubGistLister::~GithubGistLister() = default;

void GithubGistLister::start(const std::string& login, std::vector<StoredPage> previous, Callback on_done) {
    previous_ = std::move(previous);
    on_done_ = std::move(on_done);
    listing_ = GistListing{};
    listing_.verdict.outcome = GithubOutcome::ok;
    fetch(first_gists_page_url(settings_, login));
}

void GithubGistLister::fetch(std::string url) {
    const std::size_t index = listing_.pages.size();
    std::string etag;
    if (index < previous_.size() && previous_[index].url == url) {
        etag = previous_[index].etag;
    }
    current_url_ = url;
    ++listing_.requests;
    call_ = http_.start(github_get(settings_, std::move(url), etag),
                        [this](HttpResponse response) { on_response(std::move(response)); });
}

void GithubGistLister::on_response(HttpResponse response) {
    GithubVerdict verdict = classify_github_response(response, loop_.now());
    count_github(github_call(response.status, response.error == TransportError::timeout,
                             response.error != TransportError::none));
    const std::size_t index = listing_.pages.size();
    StoredPage page;

    if (verdict.outcome == GithubOutcome::not_modified) {
        if (index >= previous_.size() || previous_[index].url != current_url_) {
            // A 304 for a page we never stored: GitHub and our state disagree.
            verdict.outcome = GithubOutcome::unavailable;
            verdict.detail = "304 for a page without stored content";
            listing_.verdict = std::move(verdict);
            listing_.pages.clear();
            finish();
            return;
        }
        ++listing_.not_modified;
        page = previous_[index];
    } else if (verdict.outcome == GithubOutcome::ok) {
        auto parsed = parse_gists_page(response.body);
        if (auto* error = std::get_if<PageParseError>(&parsed)) {
            verdict.outcome = GithubOutcome::unavailable;
            verdict.detail = "bad JSON from GitHub: " + error->message;
            listing_.verdict = std::move(verdict);
            listing_.pages.clear();
            finish();
            return;
        }
        page.url = current_url_;
        if (const auto* etag = response.header("etag")) {
            page.etag = *etag;
        }
        if (const auto* link = response.header("link")) {
            // Only follow links on GitHub's own origin: the token must not travel elsewhere.
            auto next = find_link(*link, "next");
            if (next && same_origin(*next, settings_.api_url)) {
                page.next = std::move(*next);
            }
        }
        auto& fresh = std::get<GistsPage>(parsed);
        page.gists = std::move(fresh.gists);
        for (auto& why : fresh.dropped) {
            listing_.dropped.push_back(std::move(why));
        }
    } else {
        listing_.verdict = std::move(verdict);
        listing_.pages.clear();
        finish();
        return;
    }

    listing_.verdict.rate = verdict.rate;
    std::string next = page.next;
    listing_.pages.push_back(std::move(page));
    if (!next.empty() && static_cast<int>(listing_.pages.size()) < settings_.max_pages) {
        fetch(std::move(next));
        return;
    }
    finish();
}

void GithubGistLister::finish() {
    // The callback may destroy this object: touch no member after calling it.
    auto done = std::move(on_done_);
    auto listing = std::move(listing_);
    if (done) {
        done(std::move(listing));
    }
}

}  // namespace gist
