#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/read_file.h"
#include "lara/files.h"
#include "support/test_support.h"

namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(WriteFileAtomically, ReplacesTheFileALinkPointsToAndKeepsTheLink) {
    lara::test::TempDir dir;
    const auto target = dir.write("target.csv", "old");
    fs::create_symlink(target, dir.file("link.csv"));
    lara::write_file_atomically(dir.file("link.csv"), "new");
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("link.csv"))));
    EXPECT_EQ(read_text(target), "new");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2) << "a temporary file was left";
    // A link to a file not there yet (relative, through a second link) creates that file.
    fs::create_symlink("later.csv", dir.file("first.csv"));
    fs::create_symlink("first.csv", dir.file("second.csv"));
    lara::write_file_atomically(dir.file("second.csv"), "created");
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(dir.file("second.csv"))));
    EXPECT_EQ(read_text(dir.file("later.csv")), "created");
}

TEST(WriteFileAtomically, WritesIntoAPipeAndLeavesItAPipe) {
    lara::test::TempDir dir;
    const auto fifo = dir.file("pipe");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string received;
    std::thread reader([&] { received = read_text(fifo); });
    lara::write_file_atomically(fifo, "streamed");
    reader.join();
    EXPECT_EQ(received, "streamed");
    EXPECT_TRUE(fs::is_fifo(fifo));
}

TEST(WriteFileAtomically, RefusesADirectoryAndNamesTheReasonOfAFailedWrite) {
    lara::test::TempDir dir;
    fs::create_directory(dir.file("folder"));
    try {
        lara::write_file_atomically(dir.file("folder"), "x");
        FAIL() << "a directory was accepted";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::output);
        EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_directory(dir.file("folder")));
    try {
        lara::write_file_atomically(dir.file("missing/out.csv"), "x");
        FAIL() << "a file in a missing folder was written";
    } catch (const lara::Error& e) {
        EXPECT_EQ(e.kind(), lara::ErrorKind::output);
        EXPECT_NE(std::string(e.what()).find("No such file or directory"), std::string::npos) << e.what();
    }
}

TEST(WriteFileAtomically, AReplacedFileKeepsItsPermissions) {
    lara::test::TempDir dir;
    const auto path = dir.file("private.csv");
    lara::write_file_atomically(path, "old");
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    lara::write_file_atomically(path, "new");
    EXPECT_EQ(fs::status(path).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
    std::ifstream in(path);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "new");
}

TEST(WriteFileAtomically, RemovingTheTemporaryFilesMidWriteLeavesNeitherThemNorTheTarget) {
    // A second thread does what lara's signal handler does once the temporary file is there. On a
    // busy machine the write can end before that thread runs: then it tries again, writing more.
    for (std::size_t megabytes = 64; megabytes <= 512; megabytes *= 2) {
        lara::test::TempDir dir;
        const std::string bytes(megabytes << 20, 'x');
        std::atomic<bool> done{false}, removed{false};
        std::thread handler([&] {
            while (!done && !removed) {
                for (const auto& entry : fs::directory_iterator(dir.path()))
                    if (entry.path().filename().string().rfind("out.csv.tmp-", 0) == 0) {
                        lara::remove_temporary_files();
                        removed = true;
                    }
                std::this_thread::yield();
            }
        });
        std::string error;
        try {
            lara::write_file_atomically(dir.file("out.csv"), bytes);
        } catch (const lara::Error& e) {
            EXPECT_EQ(e.kind(), lara::ErrorKind::output);
            error = e.what();
        }
        done = true;
        handler.join();
        if (error.empty() && fs::exists(dir.file("out.csv"))) continue;  // written before the handler ran
        ASSERT_TRUE(removed) << error;
        EXPECT_NE(error.find("out.csv: cannot move the file into place"), std::string::npos) << error;
        EXPECT_TRUE(fs::is_empty(dir.path())) << "a file was left";
        return;
    }
    GTEST_SKIP() << "every write ended before the second thread ran; nothing was checked";
}

TEST(Utf8, FindsTheFirstByteThatDoesNotBeginAWellFormedCharacter) {
    using lara::core::invalid_utf8_at;
    constexpr auto ok = std::string_view::npos;
    EXPECT_EQ(invalid_utf8_at(""), ok);
    EXPECT_EQ(invalid_utf8_at("cpu \xc2\xb0" "C \xe2\x82\xac \xf0\x9f\x98\x80"), ok);  // °, €, an emoji
    EXPECT_EQ(invalid_utf8_at("m\xb0" "em"), 1u);          // a Latin-1 degree sign: a lone continuation byte
    EXPECT_EQ(invalid_utf8_at("ab\xc0\x80"), 2u);      // an overlong NUL
    EXPECT_EQ(invalid_utf8_at("a\xed\xa0\x80"), 1u);  // a surrogate
    EXPECT_EQ(invalid_utf8_at("a\xe2\x82"), 1u);       // cut short
    EXPECT_EQ(invalid_utf8_at("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
    EXPECT_EQ(invalid_utf8_at("\xff"), 0u);
}

TEST(Quoted, EscapesControlsOfBothKindsAndBytesThatStartNoCharacterAndNeverCutsOne) {
    const auto quoted = [](std::string_view text) { return lara::core::quoted(text); };
    EXPECT_EQ(quoted("cpu"), "\"cpu\"");
    EXPECT_EQ(quoted("a\tb\x1b[31m"), "\"a\\x09b\\x1b[31m\"");
    EXPECT_EQ(quoted("a\xc2\x9b" "b"), "\"a\\xc2\\x9bb\"");  // CSI as a C1 control
    EXPECT_EQ(quoted("m\xb0" "em \xc2\xb0" "C"), "\"m\\xb0em \xc2\xb0" "C\"");  // Latin-1 escaped, UTF-8 kept
    const std::string x38(38, 'x'), x39(39, 'x');
    EXPECT_EQ(quoted(x38 + "\xc3\xa9z"), "\"" + x38 + "\xc3\xa9...\"");  // é ends at byte 40
    EXPECT_EQ(quoted(x39 + "\xc3\xa9"), "\"" + x39 + "...\"");           // é would cross it
}
