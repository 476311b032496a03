// Reading a whole input file, and showing its pieces in errors, alike in every reader (internal
// to the library).
#pragma once

#include <charconv>
#include <string>
#include <string_view>

#include "lara/error.h"

namespace lara::core {

//! The bytes of PATH. A directory, a file that cannot be opened or read throws Error(kind) naming
//! PATH and the reason. With `starts_with`, reading stops as soon as the bytes cannot start so (a
//! model path that names /dev/zero or a huge foreign file): the caller refuses what it got.
std::string read_whole_file(const std::string& path, ErrorKind kind, std::string_view starts_with = {});

//! True when all of `text`, and nothing else, is a T (std::from_chars: no leading '+' or space).
template <typename T>
bool parse_whole(std::string_view text, T& value) {
    const auto [rest, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && status == std::errc() && rest == text.data() + text.size();
}

//! Drops a leading UTF-8 byte-order mark, which spreadsheet exports often write, from `text`.
void drop_byte_order_mark(std::string& text);

//! read_whole_file for a text file, its byte-order mark dropped.
std::string read_text_file(const std::string& path, ErrorKind kind);

//! A piece of an input file as an error shows it: in double quotes, at most 40 bytes (a binary or
//! one-line file must not flood the terminal), control characters such as a NUL or tab as \xNN.
std::string quoted(std::string_view text);

//! The characters (code points) of UTF-8 `text`: its bytes less the continuation bytes.
std::size_t code_points(std::string_view text);

//! The 1-based column at which an error shows byte `offset` of `line`: characters are counted, not bytes.
std::size_t column(std::string_view line, std::size_t offset);

//! The offset of the first byte of `text` that does not begin a well-formed UTF-8 character
//! (overlong forms and surrogates included), or npos when it is all UTF-8.
std::size_t invalid_utf8_at(std::string_view text);

}  // namespace lara::core
