#include "gist/pipedrive_search.hpp"

#include <gtest/gtest.h>

namespace gist {
namespace {

using Kind = PipedriveSearchResult::Kind;

TEST(PipedriveSearch, PersonFound) {
    const auto r = find_person_in_search(R"({"success":true,"data":{"items":[
        {"result_score":0.9,"item":{"id":17,"type":"person","name":"OctoCat","phones":[],"emails":[],
         "visible_to":3,"owner":{"id":1},"organization":null,"custom_fields":[],"notes":[]}}]},
        "additional_data":{"next_cursor":null}})",
                                         "octocat");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 17);
}

TEST(PipedriveSearch, PersonPicksSmallestIdOfExactMatches) {
    const auto r = find_person_in_search(R"({"success":true,"data":{"items":[
        {"item":{"id":30,"name":"octocat"}},
        {"item":{"id":12,"name":"octocat2"}},
        {"item":{"id":21,"name":"octocat"}}]}})",
                                         "octocat");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 21);
}

TEST(PipedriveSearch, PersonNotFound) {
    EXPECT_EQ(find_person_in_search(R"({"success":true,"data":{"items":[]}})", "x").kind,
              Kind::not_found);
    EXPECT_EQ(find_person_in_search(R"({"success":true,"data":null})", "x").kind, Kind::not_found);
    EXPECT_EQ(find_person_in_search(R"({"success":true,"data":{"items":[{"item":{"id":3,"name":"y"}}]}})", "x").kind,
              Kind::not_found);
}

TEST(PipedriveSearch, PersonMalformed) {
    EXPECT_EQ(find_person_in_search("garbage", "x").kind, Kind::malformed);
    EXPECT_EQ(find_person_in_search(R"({"success":true})", "x").kind, Kind::malformed);
    EXPECT_EQ(find_person_in_search(R"({"success":true,"data":{"items":{}}})", "x").kind,
              Kind::malformed);
    EXPECT_EQ(find_person_in_search(R"({"success":true,"data":{}})", "x").kind, Kind::malformed);
}

TEST(PipedriveSearch, PersonIgnoresBrokenItems) {
    const auto r = find_person_in_search(R"({"data":{"items":[
        1, {"item":null}, {"item":{"id":"5","name":"x"}}, {"item":{"id":6}}, {"item":{"id":-1,"name":"x"}},
        {"item":{"id":8,"name":"x"}}]}})",
                                         "x");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 8);
}

TEST(PipedriveSearch, DealFoundByExactTitlePrefix) {
    const auto r = find_deal_in_search(R"({"success":true,"data":{"items":[
        {"result_score":0.4,"item":{"id":300,"type":"deal","title":"Gist aa5a by someone: aa5a0 fork","value":0,
         "currency":"EUR","status":"open","visible_to":3,"owner":{"id":1},"stage":{"id":1,"name":"Lead"},
         "person":{"id":7,"name":"someone"},"organization":null,"custom_fields":[],"notes":[]}},
        {"result_score":0.9,"item":{"id":250,"type":"deal","title":"Gist aa5a0 by octocat: x"}},
        {"result_score":0.9,"item":{"id":200,"type":"deal","title":"Re: Gist aa5a by octocat"}}]}})",
                                       "aa5a0");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 250);
}

TEST(PipedriveSearch, DealNotFoundWhenOnlyFuzzyHits) {
    const auto r = find_deal_in_search(R"({"success":true,"data":{"items":[
        {"item":{"id":1,"title":"Gist aa5a01 by octocat: x"}},
        {"item":{"id":2,"title":"Something about aa5a0"}}]}})",
                                       "aa5a0");
    EXPECT_EQ(r.kind, Kind::not_found);
}

TEST(PipedriveSearch, DealEmptyAndMalformed) {
    EXPECT_EQ(find_deal_in_search(R"({"success":true,"data":{"items":[]},"additional_data":{}})",
                                  "g")
                  .kind,
              Kind::not_found);
    EXPECT_EQ(find_deal_in_search("", "g").kind, Kind::malformed);
    EXPECT_FALSE(find_deal_in_search("", "g").found());
}

TEST(PipedriveSearch, DealFoundInPersonsDealList) {
    const auto r = find_deal_in_list(R"({"success":true,"data":[
        {"id":5003,"title":"Gist other by octocat: y","person_id":101,"status":"open"},
        {"id":5002,"title":"Gist aa5a0 by octocat: x","person_id":101,"status":"open"}],
        "additional_data":{"next_cursor":null}})",
                                     "aa5a0");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 5002);
}

TEST(PipedriveSearch, ListEmptyNullAndMalformed) {
    EXPECT_EQ(find_deal_in_list(R"({"success":true,"data":[]})", "g").kind, Kind::not_found);
    EXPECT_EQ(find_deal_in_list(R"({"success":true,"data":null})", "g").kind, Kind::not_found);
    EXPECT_EQ(find_deal_in_list(R"({"success":true,"data":{"items":[]}})", "g").kind,
              Kind::malformed);
    EXPECT_EQ(find_person_in_list("<html>", "x").kind, Kind::malformed);
}

TEST(PipedriveSearch, NoteFoundInDealsNotes) {
    const auto r = find_note_in_list(R"({"success":true,"data":[
        {"id":90007,"deal_id":5001,"content":"Call them tomorrow"},
        {"id":90003,"deal_id":5001,"content":"<p>GitHub gist <a href=\"https://gist.github.com/aa5a0\">aa5a0</a> by u</p>"}],
        "additional_data":{"pagination":{"start":0,"limit":100,"more_items_in_collection":false}}})",
                                     "aa5a0");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 90003);
    EXPECT_EQ(find_note_in_list(R"({"success":true,"data":null})", "aa5a0").kind, Kind::not_found);
    EXPECT_EQ(find_note_in_list(R"({"success":true,"data":[{"id":1,"content":"aa5a0"}]})", "aa5a0").kind,
              Kind::not_found);
}

TEST(PipedriveSearch, PersonFoundInList) {
    const auto r = find_person_in_list(R"({"success":true,"data":[
        {"id":130,"name":"someone"},{"id":120,"name":"OctoCat"},{"id":125,"name":"octocat"}]})",
                                       "octocat");
    EXPECT_EQ(r.kind, Kind::found);
    EXPECT_EQ(r.id, 120);
}

}  // namespace
}  // namespace gist
