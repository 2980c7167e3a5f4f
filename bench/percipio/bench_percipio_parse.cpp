// Parsing throughput: users/catalog pages and the report stream (median of 5 runs per strategy).
// Usage: bench_percipio_parse [report_rows=200000] [chunk_bytes=65536]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "baton_percipio/percipio/parse.hpp"
#include "baton_percipio/percipio/report_stream_parser.hpp"

using namespace bp::percipio;
using clk = std::chrono::steady_clock;

namespace {

std::string id(unsigned n, unsigned salt) {
  char b[40];
  std::snprintf(b, sizeof b, "%08x-%04x-4000-8000-%012x", n, salt & 0xffff, n * 2654435761u);
  return b;
}

// ~1 KB rows shaped like the recorded report (flattened custom attributes, numbers as strings).
std::string make_report(unsigned rows) {
  static const char* statuses[] = {"Started", "Completed", "Achieved", "Watched", "Active"};
  std::string s = "[\n";
  s.reserve(static_cast<std::size_t>(rows) * 1100);
  for (unsigned i = 0; i < rows; ++i) {
    if (i) s += ",\n";
    s += R"({"audience":"All Users; Employees Only; Engineering (2100); Skillsoft Expert 2.0; ZPA Ops 2840",)"
         R"("businessUnit":"Technology","contentTitle":"Go \"advanced\" {part )" + std::to_string(i % 7) +
         R"(}","contentType":"Course","contentUuid":")" + id(i % 30000, 7) +
         R"(","costCenterCode":"2840","countryName":"USA","departmentCode":"152","departmentOwner":"Department Owner",)"
         R"("deptName":"ZPA Ops","directManagerName":"Direct Manager","division":"Engineering","divisionCode":"54",)"
         R"("divisonOwner":"Division Owner","duration":"1","durationHms":"00h00m01s","emailAddress":"first.last)" +
         std::to_string(i) +
         R"(@example.com","employeeClass":"FT","employeeId":"Z25055","estimatedDurationHms":"00h00m00s",)"
         R"("firstAccess":"2024-09-20T23:38:25.195Z","firstName":"First","geo":"AMER","hireDate":"2022-03-09",)"
         R"("hrbpOwner":"Hrbp Owner","isAManager":"No","languageCode":"All","lastAccess":"2024-09-20T23:38:25.195Z",)"
         R"("lastName":"Last","managerEmail":"manager@example.com","managerId":"Z21296","status":")" +
         statuses[i % 5] + R"(","totalAccesses":"1","userId":"first.last@example.com","userStatus":"Active","userUuid":")" +
         id(i / 10, 1) + R"("})";
  }
  s += "\n]\n";
  return s;
}

std::string make_users_page(unsigned n) {
  std::string s = "[";
  for (unsigned i = 0; i < n; ++i) {
    if (i) s += ",";
    s += R"({"id":")" + id(i, 1) + R"(","externalUserId":"u)" + std::to_string(i) +
         R"(@example.com","email":"u)" + std::to_string(i) +
         R"(@example.com","isActive":true,"loginName":null,"firstName":"First","lastName":"Last","role":"LEARNER",)"
         R"("updatedAt":"2024-04-17T09:55:22.173000Z","customAttributes":[)";
    for (int a = 0; a < 21; ++a) {
      if (a) s += ",";
      s += R"({"id":")" + id(static_cast<unsigned>(a), 3) + R"(","name":"Attribute )" + std::to_string(a) +
           R"(","value":)" + (a % 3 ? std::string("\"value\"") : std::string("null")) + "}";
    }
    s += R"(],"jobTitle":null,"jobRole":null,"approvalManager":{},"directHrManager":{},"isInstructor":false,)"
         R"("hasCoaching":false,"hasEnterpriseCoaching":false})";
  }
  return s + "]";
}

std::string make_catalog_page(unsigned n) {
  std::string s = "[";
  for (unsigned i = 0; i < n; ++i) {
    if (i) s += ",";
    s += R"({"id":")" + id(i, 7) + R"(","code":null,"xapiActivityId":"https://xapi.percipio.com/xapi/course/x",)"
         R"("characteristics":{"earnsBadge":false,"hasAssessment":false,"isCompliance":false},)"
         R"("contentType":{"percipioType":"COURSE","category":"COURSE","displayLabel":"Course","source":null},)"
         R"("localeCodes":["en-US","fr-FR"],"localizedMetadata":[{"localeCode":"fr-FR","title":"Aper\u00e7u",)"
         R"("description":"Une description assez longue pour ressembler aux donn\u00e9es r\u00e9elles du catalogue."},)"
         R"({"localeCode":"en-US","title":"Course Overview","description":"A description long enough to look like )"
         R"(real catalog data, with <b>HTML</b> inside and more words to pad it out to a realistic size."}],)"
         R"("lifecycle":{"status":"ACTIVE","publishDate":"2020-04-02T12:24:33Z","lastUpdatedDate":"2023-10-06T23:08:23Z",)"
         R"("plannedRetirementDate":null,"retiredDate":null,"includedFromActivity":false},"duration":"PT1M58S",)"
         R"("keywords":["a","b","c"],"by":["Test Name"],"publication":null,"credentials":null,)"
         R"("associations":{"areas":["Cloud Services","Microsoft"],"subjects":["Cloud Platforms"],"channels":[)"
         R"({"id":"00000000-0000-0000-0000-000000000000","title":"Microsoft 365 Administration","link":"https://x"}],)"
         R"("parent":null,"translationGroupId":null,"journeys":[],"licensedLocales":"","collections":["c"]}})";
  }
  return s + "]";
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_runs(F&& f) {
  std::vector<double> secs;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = clk::now();
    f();
    secs.push_back(std::chrono::duration<double>(clk::now() - t0).count());
  }
  return median(secs);
}

void report_line(const char* what, double bytes, double items, double secs) {
  std::printf("%-44s %9.1f MB/s %12.0f items/s  (%.1f MB, median of 5: %.3f s)\n", what, bytes / secs / 1e6,
              items / secs, bytes / 1e6, secs);
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned rows = argc > 1 ? static_cast<unsigned>(std::atoi(argv[1])) : 200000;
  const std::size_t chunk = argc > 2 ? static_cast<std::size_t>(std::atoll(argv[2])) : 65536;

  {
    const std::string users = make_users_page(1000);
    const int reps = 20;
    const double s = time_runs([&] {
      for (int i = 0; i < reps; ++i)
        if (!parse_users_page(users, "users page").ok()) std::abort();
    });
    report_line("users page (1000 users, 21 attributes)", double(users.size()) * reps, 1000.0 * reps, s);
    const std::string catalog = make_catalog_page(1000);
    const double c = time_runs([&] {
      for (int i = 0; i < reps; ++i)
        if (!parse_catalog_page(catalog, "catalog page").ok()) std::abort();
    });
    report_line("catalog page (1000 items)", double(catalog.size()) * reps, 1000.0 * reps, c);
  }

  const std::string report = make_report(rows);
  std::printf("report: %u rows, %.1f MB, %.0f bytes/row, chunks of %zu bytes\n", rows, report.size() / 1e6,
              double(report.size()) / rows, chunk);
  struct variant {
    const char* name;
    report_stream_parser::strategy strat;
    bool scalar;
  };
  const variant variants[] = {
      {"report stream: iterate_many, simd scanner", report_stream_parser::strategy::iterate_many, false},
      {"report stream: per_object, simd scanner", report_stream_parser::strategy::per_object, false},
      {"report stream: iterate_many, scalar scanner", report_stream_parser::strategy::iterate_many, true},
  };
  for (const auto& v : variants) {
    report_stream_parser::options o;
    o.parse_strategy = v.strat;
    o.force_scalar_scanner = v.scalar;
    std::uint64_t got = 0;
    report_stream_parser p([&](std::span<const report_row> r) { got += r.size(); }, "report", o);
    const double s = time_runs([&] {
      p.reset();
      got = 0;
      for (std::size_t at = 0; at < report.size(); at += chunk)
        if (!p.feed(std::string_view(report).substr(at, chunk)).ok()) std::abort();
      if (!p.finish().ok() || got != rows) std::abort();
    });
    report_line(v.name, double(report.size()), double(rows), s);
  }
  return 0;
}
