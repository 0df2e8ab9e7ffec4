// Real-data parsers on small inline texts (each format quirk, each error message), and the
// loaders on ../shared/data when it is present (skipped otherwise).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>

#include "model/data/tables.hpp"
#include "test_util.hpp"

using namespace mixprec;
using namespace mixprec::data;

namespace {
template <class F>
std::string error_text(F f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "no error";
}

const char* kOccHeader = "\"date\",\"Temperature\",\"Humidity\",\"Light\",\"CO2\",\"HumidityRatio\",\"Occupancy\"\n";

// The real data folder, or "" when it is absent.
// The real data folder, or "" after warning that the test skips (`what` it skips).
std::string real_data_dir(const std::string& what = "skipping") {
  const char* env = std::getenv("MIXPREC_DATA_DIR");
  std::string d = env && *env ? env : test::source_path("../shared/data");
  struct stat st;
  if (stat((d + "/uci_occupancy_detection").c_str(), &st) == 0) return d;
  WARN(what + ": no real data folder (set MIXPREC_DATA_DIR or provide ../shared/data)");
  return "";
}
}  // namespace

TEST_CASE("tables: timestamps with quoted, unquoted, one-digit hours", "[data][tables]") {
  std::int64_t t = 0;
  REQUIRE(parse_timestamp("2015-02-04", "17:51:00", t));
  CHECK(t == 1423072260);  // date -u -d '2015-02-04 17:51:00' +%s
  REQUIRE(parse_timestamp("2018-01-11", "8:59:39", t));
  CHECK(t == 1515661179);
  REQUIRE(parse_timestamp("2017/12/22", "10:49:41", t));
  CHECK(t == 1513939781);
  CHECK_FALSE(parse_timestamp("2015-13-04", "17:51:00", t));
  CHECK_FALSE(parse_timestamp("2015-02-04", "17:51", t));
  CHECK_FALSE(parse_timestamp("20150204", "17:51:00", t));
  CHECK_FALSE(parse_timestamp("2015-02-04", "25:00:00", t));
}

TEST_CASE("tables: UCI occupancy rows have 8 fields under a 7-name header", "[data][tables]") {
  const std::string quoted = std::string(kOccHeader) +
                             "\"1\",\"2015-02-04 17:51:00\",23.18,27.272,426,721.25,0.00479298817650529,1\n"
                             "\"2\",\"2015-02-04 17:51:59\",23.15,27.2675,429.5,714,0.00478344094931065,0\n";
  const Table a = parse_uci_occupancy(quoted, "datatraining.txt");
  REQUIRE(a.rows() == 2);
  CHECK(a.columns == std::vector<std::string>{"Temperature", "Humidity", "Light", "CO2", "HumidityRatio"});
  CHECK(a.at(0, 0) == Approx(23.18f));
  CHECK(a.at(1, 3) == Approx(714.0f));
  CHECK(a.label == std::vector<int>{1, 0});
  CHECK(a.time_s[1] - a.time_s[0] == 59);  // irregular seconds kept as they are
  CHECK(a.line == std::vector<int>{2, 3});
  // datatest2.txt: the timestamp is not quoted; no final newline.
  const std::string unquoted = std::string(kOccHeader) +
                               "\"1\",2015-02-11 14:48:00,21.76,31.1333333333333,437.333333333333,1029.66666666667,0.00502101089021385,1";
  const Table b = parse_uci_occupancy(unquoted, "datatest2.txt");
  REQUIRE(b.rows() == 1);
  CHECK(b.at(0, 2) == Approx(437.3333f));
  // A header with the row-number column named is accepted as well.
  const Table c = parse_uci_occupancy("\"\"," + std::string(kOccHeader) +
                                          "\"7\",2015-02-11 14:48:00,1,2,3,4,5,0\n",
                                      "x.txt");
  CHECK(c.rows() == 1);
}

TEST_CASE("tables: UCI occupancy errors name the file, the line and the field", "[data][tables]") {
  const std::string h = kOccHeader;
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1\",\"2015-02-04 17:51:00\",23.18,27.272,426,721.25,1\n", "f.txt"); }) ==
        "f.txt:2: expected 8 fields, found 7");
  CHECK(error_text([&] {
          parse_uci_occupancy(h + "\"1\",\"2015-02-04 17:51:00\",23.18,27.272,426,721.25,0.0047,1\n"
                                  "\"2\",\"2015-02-04 17:52:00\",abc,27.272,426,721.25,0.0047,1\n",
                              "f.txt");
        }) == "f.txt:3: field 3 (Temperature): expected a number, found \"abc\"");
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1\",\"2015-02-04\",23.18,27.272,426,721.25,0.0047,1\n", "f.txt"); }) ==
        "f.txt:2: field 2 (date): expected a timestamp YYYY-MM-DD HH:MM:SS, found \"2015-02-04\"");
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1\",\"2015-02-04 17:51:00\",23.18,27.272,426,721.25,0.0047,2\n", "f.txt"); }) ==
        "f.txt:2: field 8 (Occupancy): expected 0 or 1, found \"2\"");
  CHECK(error_text([&] {
          parse_uci_occupancy(h + "\"1\",\"2015-02-04 17:51:00\",1,2,3,4,5,1\n\"2\",\"2015-02-04 17:50:00\",1,2,3,4,5,1\n",
                              "f.txt");
        }) == "f.txt:3: expected a timestamp after 2015-02-04 17:51:00 (rows in time order), found 2015-02-04 17:50:00");
  CHECK(error_text([&] { parse_uci_occupancy("\"date\",\"Temp\"\n", "f.txt"); }) ==
        "f.txt:1: expected the header date,Temperature,Humidity,Light,CO2,HumidityRatio,Occupancy "
        "(optionally after a row-number column), found \"\"date\",\"Temp\"\"");
  CHECK(error_text([&] { parse_uci_occupancy("", "f.txt"); }) == "f.txt: expected a header line, found an empty file");
  CHECK(error_text([&] { parse_uci_occupancy(h, "f.txt"); }) == "f.txt: expected data rows after the header, found none");
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1,2015-02-04 17:51:00,1,2,3,4,5,1\n", "f.txt"); }) ==
        "f.txt:2: field 1: expected a closing quote, found the end of the line");
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1\"x,2015-02-04 17:51:00,1,2,3,4,5,1\n", "f.txt"); }) ==
        "f.txt:2: field 1: expected a comma after the closing quote, found 'x'");
  CHECK(error_text([&] { parse_uci_occupancy(h + "\"1\",2015-02-04 17:51:00,1,2,nan,4,5,1\n", "f.txt"); }) ==
        "f.txt:2: field 5 (Light): expected a number, found \"nan\"");
}

TEST_CASE("tables: UCI room estimation with CRLF, one-digit hours and missing readings", "[data][tables]") {
  const std::string head =
      "Date,Time,S1_Temp,S2_Temp,S3_Temp,S4_Temp,S1_Light,S2_Light,S3_Light,S4_Light,S1_Sound,S2_Sound,"
      "S3_Sound,S4_Sound,S5_CO2,S5_CO2_Slope,S6_PIR,S7_PIR,Room_Occupancy_Count\r\n";
  const std::string text = head +
                           "2017-12-22,9:59:41,24.94,24.75,24.56,25.38,121,34,53,40,0.08,0.19,0.06,0.06,390,0.769230769,0,0,1\r\n"
                           "2017-12-22,10:00:12,24.94,24.75,,25.44,121,33,53,40,0.93,0.05,0.06,0.06,390,0.646153846,0,0,3\r\n"
                           "\r\n";
  const Table t = parse_uci_room(text, "room.csv");
  REQUIRE(t.rows() == 2);
  CHECK(t.columns.size() == 16);
  CHECK(t.columns.front() == "S1_Temp");
  CHECK(t.columns.back() == "S7_PIR");
  CHECK(t.label == std::vector<int>{1, 3});
  CHECK(t.time_s[1] - t.time_s[0] == 31);
  CHECK(t.at(1, 2) == Approx(24.56f));  // the empty S3_Temp took the previous value
  CHECK(t.filled == 1);
  CHECK(t.at(1, 15) == 0.0f);           // no CR left in the last feature
  CHECK(error_text([&] { parse_uci_room(head + "2017-12-22,10:49:41,1,2\r\n", "room.csv"); }) ==
        "room.csv:2: expected 19 fields, found 4");
  CHECK(error_text([&] {
          parse_uci_room(head + "2017-12-22,10:49:41,24.94,24.75,24.56,25.38,121,34,53,40,0.08,0.19,0.06,0.06,390,0.7,0,0,4\r\n",
                         "room.csv");
        }) == "room.csv:2: field 19 (Room_Occupancy_Count): expected a count 0 to 3, found \"4\"");
  CHECK(error_text([&] {
          parse_uci_room(head + "2017-12-22,10:49,24.94,24.75,24.56,25.38,121,34,53,40,0.08,0.19,0.06,0.06,390,0.7,0,0,1\r\n",
                         "room.csv");
        }) == "room.csv:2: fields 1-2 (Date, Time): expected YYYY-MM-DD and HH:MM:SS, found \"2017-12-22\" and \"10:49\"");
  CHECK(error_text([&] { parse_uci_room("Date,Time\r\n", "room.csv"); }).rfind("room.csv:1: expected the header Date,Time,S1_Temp,", 0) == 0);
}

TEST_CASE("tables: Los-loop speeds under a header of sensor ids", "[data][tables]") {
  const Table t = parse_los_speed("773869,767541,767542\n64.375,67.625,67.125\n62.5,,66\n", "los_speed.csv");
  REQUIRE(t.rows() == 2);
  CHECK(t.columns == std::vector<std::string>{"773869", "767541", "767542"});
  CHECK(t.time_s.empty());
  CHECK(t.at(1, 1) == 67.625f);  // missing: the previous value
  CHECK(t.at(1, 2) == 66.0f);
  CHECK(error_text([&] { parse_los_speed("1,2,3\n1,2\n", "los.csv"); }) == "los.csv:2: expected 3 fields, found 2");
  CHECK(error_text([&] { parse_los_speed("1,2\n1,2\n3,x\n", "los.csv"); }) ==
        "los.csv:3: field 2 (sensor 2): expected a number, found \"x\"");
  CHECK(error_text([&] { parse_los_speed("1,2\n,2\n", "los.csv"); }) ==
        "los.csv: column 1: expected at least one reading, found none");
  CHECK(error_text([&] { parse_los_speed("1,,3\n", "los.csv"); }) ==
        "los.csv:1: field 2: expected a sensor id, found an empty field");
}

TEST_CASE("tables: a missing data file is named with the folder and where it came from", "[data][tables]") {
  DataSpec spec;
  spec.source = "uci_room";
  spec.path = "/nonexistent/data";
  InputShape sh;
  sh.frames = 4;
  sh.features = 16;
  CHECK(error_text([&] { make_dataset(spec, sh); }) ==
        "/nonexistent/data/uci_room_occupancy/Occupancy_Estimation.csv: cannot open the data file (data folder "
        "\"/nonexistent/data\" from data.path; set data.path in the scenario or MIXPREC_DATA_DIR)");
}

TEST_CASE("tables: the real data sets load (skipped without ../shared/data)", "[data][tables][real]") {
  const std::string dir = real_data_dir();
  if (dir.empty()) return;
  DataSpec spec;
  spec.path = dir;
  spec.samples = 100000;

  SECTION("UCI occupancy detection: split by file, both classes in every split") {
    spec.source = "uci_occupancy";
    spec.horizon_steps = 10;
    InputShape sh;
    sh.frames = 30;
    sh.features = 5;
    const Dataset ds = make_dataset(spec, sh);
    CHECK(ds.classes == 2);
    CHECK(ds.train.n == 8143 - 39);  // datatraining.txt: rows - (T + h - 1)
    CHECK(ds.val.n == 2665 - 39);
    CHECK(ds.test.n == 9752 - 39);
    for (const Split* s : {&ds.train, &ds.val, &ds.test})
      for (int c : ds.class_counts(*s)) CHECK(c > 500);
    CHECK(ds.naive_test.accuracy > 0.9);
    // Channels-as-features with 1 x 1 frames is the same data.
    InputShape img = sh;
    img.features = 0;
    img.channels = 5;
    img.height = img.width = 1;
    spec.samples = 50;
    const Dataset d2 = make_dataset(spec, img);
    CHECK(d2.train.n == 50);
  }
  SECTION("UCI room estimation: split by day, 4 classes") {
    spec.source = "uci_room";
    spec.horizon_steps = 10;
    InputShape sh;
    sh.frames = 20;
    sh.features = 16;
    const Dataset ds = make_dataset(spec, sh);
    CHECK(ds.classes == 4);
    CHECK(ds.train.n + ds.val.n + ds.test.n > 9800);
    for (int c : ds.class_counts(ds.train)) CHECK(c > 100);
    for (int c : ds.class_counts(ds.val)) CHECK(c > 100);
    CHECK(ds.description.find("386 missing readings filled") != std::string::npos);
  }
  SECTION("Los-loop: one-step speed forecast, naive RMSE/MAE in mph") {
    spec.source = "los_loop";
    spec.task = "traffic";
    spec.horizon_steps = 1;
    InputShape sh;
    sh.frames = 6;
    sh.features = 1;
    LoadOptions one;
    one.traffic_sensor = 0;
    const Dataset ds = make_dataset(spec, sh, one);
    CHECK(ds.regression);
    CHECK(ds.classes == 1);
    CHECK(ds.target_unit == "mph");
    CHECK(ds.train.n == 1411 - 6);  // rows 0..1410 train (70% of 2016)
    CHECK(ds.naive_test.rmse == Approx(4.372).margin(0.001));
    CHECK(ds.naive_test.mae == Approx(2.542).margin(0.001));
    // Targets convert back to mph; the last input step is the naive forecast.
    const float mph = ds.test.target[0] * ds.target_std + ds.target_mean;
    CHECK(mph > 0);
    CHECK(mph < 90);
    CHECK(ds.test.last_target[0] == Approx(ds.test.x[5]));
    spec.samples = 4096;
    const Dataset all = make_dataset(spec, sh);
    CHECK(all.train.n == 4096);
    CHECK(all.test.n == 207 * (2016 - 1714 - 6));
    CHECK(all.naive_test.rmse == Approx(4.579).margin(0.001));
  }
}

TEST_CASE("tables: the shipped scenarios' data sets fit their networks", "[data][tables][real]") {
  Scenario venue = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  venue.data.samples = 128;  // the full 4096 windows take ~100 MB; the shape is what matters here
  const Dataset v = make_dataset(venue);
  CHECK(v.sample_size() == 8 * 3 * 16 * 16);
  CHECK(v.classes == 5);

  const std::string dir = real_data_dir("skipping the real-data scenarios");
  if (dir.empty()) return;
  for (const char* f : {"scenarios/uci_occupancy_detection.json", "scenarios/uci_room_occupancy.json",
                        "scenarios/los_loop_traffic.json"}) {
    INFO(f);
    Scenario sc = load_scenario(test::source_path(f));
    sc.data.path = dir;
    const Dataset ds = make_dataset(sc);
    CHECK(ds.train.n == sc.data.samples);
    CHECK(ds.val.n > 0);
    CHECK(ds.test.n > 0);
    CHECK(ds.sample_size() == sc.network.frames * (sc.network.features > 0 ? sc.network.features : sc.network.channels));
  }
}

TEST_CASE("tables: label_history feeds the current label back as the last feature", "[data][tables]") {
  const std::string dir = real_data_dir();
  if (dir.empty()) return;
  for (const char* f : {"scenarios/uci_occupancy_detection.json", "scenarios/uci_room_occupancy.json"}) {
    INFO(f);
    Scenario sc = load_scenario(test::source_path(f));
    REQUIRE(sc.data.label_history);
    sc.data.path = dir;
    const Dataset ds = make_dataset(sc);
    const int F = sc.network.channels, T = sc.network.frames;
    REQUIRE(ds.norm.mean.size() == std::size_t(F));
    for (const Split* s : {&ds.train, &ds.val, &ds.test})
      for (int i = 0; i < s->n; i += 97) {
        // The last frame's last feature, de-normalized, is the label at the last input step.
        const float v = s->sample(i, ds.sample_size())[(T - 1) * F + (F - 1)];
        const float label = v * ds.norm.stddev[std::size_t(F - 1)] + ds.norm.mean[std::size_t(F - 1)];
        CHECK(label == Approx(s->last_y[std::size_t(i)]).margin(1e-4));
      }
    // Without it, the network must take one feature fewer.
    sc.data.label_history = false;
    CHECK_THROWS_WITH(make_dataset(sc), Catch::Contains("/network/input"));
  }
  Scenario venue = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  venue.data.label_history = true;
  CHECK_THROWS_WITH(make_dataset(venue),
                    Catch::Contains("/data/label_history: expected false for source \"venue_generator\""));
}

TEST_CASE("tables: sensor_changes turns each sensor reading into its change per step", "[data][tables]") {
  Scenario venue = load_scenario(test::source_path("scenarios/venue_cnn_lstm.json"));
  venue.data.sensor_changes = true;
  CHECK_THROWS_WITH(make_dataset(venue),
                    Catch::Contains("/data/sensor_changes: expected false for source \"venue_generator\""));
  const std::string dir = real_data_dir();
  if (dir.empty()) return;
  for (const char* f : {"scenarios/uci_occupancy_detection.json", "scenarios/uci_room_occupancy.json"}) {
    INFO(f);
    Scenario sc = load_scenario(test::source_path(f));
    REQUIRE(sc.data.sensor_changes);
    sc.data.path = dir;
    const Dataset changes = make_dataset(sc);
    sc.data.sensor_changes = false;
    const Dataset levels = make_dataset(sc);
    const int F = sc.network.channels, T = sc.network.frames;
    const std::size_t S = std::size_t(changes.sample_size());
    REQUIRE(changes.train.n == levels.train.n);
    auto raw = [](const Dataset& d, const Split& s, int i, int t, int c, int F) {
      const float v = s.sample(i, d.sample_size())[t * F + c];
      return double(v) * d.norm.stddev[std::size_t(c)] + d.norm.mean[std::size_t(c)];
    };
    for (const auto& [a, b] : {std::pair{&changes.train, &levels.train}, {&changes.test, &levels.test}})
      for (int i = 0; i < a->n; i += 131)
        for (int t = 1; t < T; ++t)
          for (int c = 0; c + 1 < F; ++c)  // the sensors; the last column is the current label
            CHECK(raw(changes, *a, i, t, c, F) ==
                  Approx(raw(levels, *b, i, t, c, F) - raw(levels, *b, i, t - 1, c, F)).margin(1e-3 * (1 + std::fabs(raw(levels, *b, i, t, c, F)))));
    // The label column is a level either way.
    const float* x = changes.test.sample(0, int(S));
    CHECK(double(x[(T - 1) * F + F - 1]) * changes.norm.stddev[std::size_t(F - 1)] + changes.norm.mean[std::size_t(F - 1)] ==
          Approx(changes.test.last_y[0]).margin(1e-4));
  }
}
