// Building the requests the module sends to Pipedrive (API v2 for deals and persons, v1 for notes).
#pragma once

#include "gist/http.hpp"
#include "gist/pipedrive_settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gist {

// Percent-encodes everything but RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~).
std::string pipedrive_url_encode(std::string_view text);

// Every builder sets the method and URL, the headers
//   x-api-token: <token>   Accept: application/json   Content-Type: application/json (with a body)
// and settings.timeout. The token never goes into the URL. Bodies are JSON built from the
// arguments and the optional settings fields; text is made valid UTF-8 first.

// POST {base}/api/v2/deals  {"title", "person_id"?, "owner_id"?, "pipeline_id"?, "stage_id"?,
//                             "value"?, "currency"?, "visible_to"?}
HttpRequest pipedrive_create_deal_request(const PipedriveSettings& settings, std::string_view title,
                                          std::optional<std::int64_t> person_id);

// GET {base}/api/v2/persons/search?term=<login>&fields=name&exact_match=true
// The person's name is the GitHub login: it is what a sales person sees, and searching by name
// needs no custom field set up in the account. (exact_match is case-insensitive, like logins.)
HttpRequest pipedrive_search_person_request(const PipedriveSettings& settings,
                                            std::string_view login);

// POST {base}/api/v2/persons  {"name": login, "owner_id"?, "visible_to"?}
HttpRequest pipedrive_create_person_request(const PipedriveSettings& settings,
                                            std::string_view login);

// GET {base}/api/v2/deals/search?term=<gist id>&fields=title&exact_match=false[&person_id=N]
// Finds a deal an earlier, ambiguous attempt may have created; match hits with
// is_deal_title_for_gist (see pipedrive_search.hpp).
HttpRequest pipedrive_search_deal_request(const PipedriveSettings& settings,
                                          std::string_view gist_id,
                                          std::optional<std::int64_t> person_id = std::nullopt);

// Strongly consistent look-ups for an ambiguous create (the search index lags behind writes):
// GET {base}/api/v2/deals?person_id=N&updated_since=<RFC 3339>&sort_by=add_time&sort_direction=desc&limit=100
// GET {base}/api/v2/persons?updated_since=<RFC 3339>&sort_by=add_time&sort_direction=desc&limit=100
// updated_since should be a little before the ambiguous attempt started (clock skew).
// Match with find_deal_in_list / find_person_in_list.
HttpRequest pipedrive_list_deals_request(const PipedriveSettings& settings, std::int64_t person_id,
                                         std::string_view updated_since);
HttpRequest pipedrive_list_persons_request(const PipedriveSettings& settings,
                                           std::string_view updated_since);

// GET {base}/api/v1/notes?deal_id=N&limit=100 — the deal's notes, for an ambiguous note create.
// Match with find_note_in_list.
HttpRequest pipedrive_list_notes_request(const PipedriveSettings& settings, std::int64_t deal_id);

// POST {base}/api/v1/notes  {"content": html, "deal_id": N}
HttpRequest pipedrive_create_note_request(const PipedriveSettings& settings, std::int64_t deal_id,
                                          std::string_view content_html);

// "POST https://example.pipedrive.com/api/v2/deals" for logs: method and URL only (no headers,
// no body), with any api_token query value masked in case one was ever put there.
std::string pipedrive_request_log_line(const HttpRequest& request);

}  // namespace gist
