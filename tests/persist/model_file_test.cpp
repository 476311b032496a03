#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <zlib.h>

#include "lara/error.h"
#include "persist/model_file.h"
#include "support/test_support.h"

namespace {

lara::persist::ModelFile sample_file() {
    lara::persist::ModelFile f;
    f.meta = {{"kind", "test"}, {"numbers", {1, 2, 3}}};
    f.sections["a"] = {1.0f, -2.5f, 3.25f};
    f.sections["weights/b"] = std::vector<float>(1000, 0.125f);
    f.sections["empty"] = {};
    return f;
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

void expect_refused(const std::string& path, const std::string& fragment) {
    try {
        lara::persist::read_model_file(path);
        FAIL() << "expected " << path << " to be refused";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::model);
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(ModelFile, RoundTripKeepsEverything) {
    lara::test::TempDir dir;
    const auto path = dir.file("m.lara");
    const auto original = sample_file();
    lara::persist::write_model_file(path, original);
    const auto back = lara::persist::read_model_file(path);
    EXPECT_EQ(back.version, lara::persist::kFormatVersion);
    EXPECT_EQ(back.meta, original.meta);
    EXPECT_EQ(back.sections, original.sections);
}

TEST(ModelFile, WritesAtomicallyLeavingNoTemporaryFile) {
    lara::test::TempDir dir;
    const auto path = dir.file("m.lara");
    lara::persist::write_model_file(path, sample_file());
    lara::persist::write_model_file(path, sample_file());  // replaces the existing file
    std::size_t n_files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
        ++n_files;
        EXPECT_EQ(entry.path().filename(), "m.lara");
    }
    EXPECT_EQ(n_files, 1u);
}

TEST(ModelFile, RefusesEveryTruncation) {
    lara::test::TempDir dir;
    const auto path = dir.file("m.lara");
    lara::persist::write_model_file(path, sample_file());
    const auto bytes = read_bytes(path);
    for (std::size_t keep : {std::size_t{0}, std::size_t{7}, std::size_t{12}, bytes.size() / 2, bytes.size() - 1}) {
        const auto cut = dir.file("cut.lara");
        write_bytes(cut, bytes.substr(0, keep));
        try {
            lara::persist::read_model_file(cut);
            FAIL() << "a file truncated to " << keep << " bytes was accepted";
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::model);
        }
    }
}

TEST(ModelFile, RefusesAFlippedByteAnywhere) {
    lara::test::TempDir dir;
    const auto path = dir.file("m.lara");
    lara::persist::write_model_file(path, sample_file());
    const auto bytes = read_bytes(path);
    for (std::size_t at = 8; at < bytes.size(); at += 97) {
        auto corrupt = bytes;
        corrupt[at] = static_cast<char>(corrupt[at] ^ 0x10);
        write_bytes(path, corrupt);
        expect_refused(path, "checksum mismatch");
    }
}

TEST(ModelFile, RefusesAForeignFile) {
    lara::test::TempDir dir;
    expect_refused(dir.write("foreign.lara", "PK\x03\x04 this is a zip file, not a model"), "bad magic");
    expect_refused(dir.write("empty.lara", ""), "bad magic");
    expect_refused(dir.file("missing.lara"), "cannot open");
}

TEST(ModelFile, StopsReadingAnEndlessForeignFileAtItsFirstBytes) {
    // /dev/zero used to be read until memory ran out, then blamed on the model's sizes.
    if (!std::filesystem::exists("/dev/zero")) GTEST_SKIP() << "no /dev/zero";
    expect_refused("/dev/zero", "bad magic");
}

TEST(ModelFile, RefusesMetadataNestedTooDeep) {
    // Sealed with a valid checksum: JSON nested 100,000 levels parses, but copying it recursed until
    // the stack overflowed (a crash, not an error).
    lara::test::TempDir dir;
    lara::persist::ModelFile file;
    file.meta = {{"kind", "test"}};
    lara::persist::write_model_file(dir.file("m.lara"), file);
    auto bytes = read_bytes(dir.file("m.lara"));
    const std::string meta = file.meta.dump();
    const std::string deep = "{\"kind\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
    const auto at = bytes.find(meta);
    ASSERT_NE(at, std::string::npos);
    const std::uint64_t size = deep.size();
    bytes.replace(at - 8, 8, reinterpret_cast<const char*>(&size), 8);  // the metadata length before it
    bytes.replace(at, meta.size(), deep);
    bytes.resize(bytes.size() - 4);
    const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    bytes.append(reinterpret_cast<const char*>(&crc), 4);
    write_bytes(dir.file("deep.lara"), bytes);
    expect_refused(dir.file("deep.lara"), "model metadata is nested more than 64 levels deep");
}

TEST(ModelFile, WritesANameThatIsNotUtf8Replaced) {
    // A Latin-1 file name in the metadata made the save fail after a whole training.
    lara::test::TempDir dir;
    lara::persist::ModelFile file;
    file.meta = {{"kind", "test"}, {"source", "tr\xe9in.csv"}};
    lara::persist::write_model_file(dir.file("m.lara"), file);
    EXPECT_EQ(lara::persist::read_model_file(dir.file("m.lara")).meta["source"], "tr\xef\xbf\xbdin.csv");
}

TEST(ModelFile, RefusesAnUnknownVersionButReadsOlderOnes) {
    lara::test::TempDir dir;
    auto file = sample_file();
    file.version = lara::persist::kFormatVersion + 1;
    lara::persist::write_model_file(dir.file("new.lara"), file);
    expect_refused(dir.file("new.lara"), "format version " + std::to_string(lara::persist::kFormatVersion + 1) + " is not supported");
    file.version = 1;
    lara::persist::write_model_file(dir.file("old.lara"), file);
    EXPECT_EQ(lara::persist::read_model_file(dir.file("old.lara")).version, 1u);
}

TEST(ModelFile, RefusesADirectoryAndASectionThatAppearsTwice) {
    lara::test::TempDir dir;
    std::filesystem::create_directory(dir.file("folder.lara"));
    expect_refused(dir.file("folder.lara"), "is a directory");
    // Two sections of one name, sealed with a valid checksum: the second would silently win.
    lara::persist::ModelFile file;
    file.meta = {{"kind", "test"}};
    file.sections["aa"] = {1.0f};
    file.sections["ab"] = {2.0f};
    lara::persist::write_model_file(dir.file("m.lara"), file);
    auto bytes = read_bytes(dir.file("m.lara"));
    const auto at = bytes.rfind("ab");
    ASSERT_NE(at, std::string::npos);
    bytes[at + 1] = 'a';
    bytes.resize(bytes.size() - 4);
    const auto crc = static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    bytes.append(reinterpret_cast<const char*>(&crc), 4);
    write_bytes(dir.file("twice.lara"), bytes);
    expect_refused(dir.file("twice.lara"), "section \"aa\" appears twice");
}
