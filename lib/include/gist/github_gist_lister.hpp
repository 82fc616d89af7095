// Lists all public gists of one user: pagination over Link rel="next", per-page ETags.
#pragma once

#include "gist/github_request.hpp"
#include "gist/github_response.hpp"
#include "gist/http_client.hpp"
#include "gist/stored_page.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gist {

struct GistListing {
    // ok: `pages` is the complete list (from 200s and 304-reused pages). Anything else: the
    // verdict of the first response that was not usable, and `pages` is empty.
    GithubVerdict verdict;
    std::vector<StoredPage> pages;
    int requests = 0;       // GitHub requests sent
    int not_modified = 0;   // of which answered 304
    std::vector<std::string> dropped;  // invalid gists left out of `pages` (parse_gists_page)
    std::vector<Gist> all_gists() const;  // every page's gists, duplicates (by id) removed
};

// One listing in flight. Destroying it cancels the HTTP call in flight; the callback never runs.
class GithubGistLister {
public:
    using Callback = std::function<void(GistListing)>;

    GithubGistLister(HttpClient& http, const GithubSettings& settings, EventLoop& loop);
    ~GithubGistLister();
    GithubGistLister(const GithubGistLister&) = delete;
    GithubGistLister& operator=(const GithubGistLister&) = delete;

    // `previous` is what the last scan stored; pages whose URL matches are asked for with their
    // ETag, and a 304 reuses them.
    void start(const std::string& login, std::vector<StoredPage> previous, Callback on_done);

private:
    void fetch(std::string url);
    void on_response(HttpResponse response);
    void finish();

    HttpClient& http_;
    const GithubSettings& settings_;
    EventLoop& loop_;
    std::vector<StoredPage> previous_;
    GistListing listing_;
    std::unique_ptr<HttpCall> call_;
    std::string current_url_;
    Callback on_done_;
};

}  // namespace gist
