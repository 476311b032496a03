// Reading one field of a JSON object with an error that names it (internal to the library):
// nlohmann's own says "type must be number, but is string" and not where, and it reads 40.5 as
// the whole number 40.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "lara/error.h"

namespace lara::core {

//! `object[key]` as a T, or lara::Error(kind) "`name` is missing" / "`name` is not a whole
//! number" (string, number, ...); `name` is how the message calls the field (say "threshold.value").
template <typename T>
T json_field(const nlohmann::json& object, const char* key, const std::string& name, ErrorKind kind) {
    const auto found = object.is_object() ? object.find(key) : object.end();
    if (found == object.end()) throw Error(kind, name + " is missing");
    bool fits = false;
    const char* what = "";
    if constexpr (std::is_same_v<T, std::string>) {
        fits = found->is_string(), what = "string";
    } else if constexpr (std::is_same_v<T, bool>) {
        fits = found->is_boolean(), what = "true or false";
    } else if constexpr (std::is_unsigned_v<T>) {
        fits = found->is_number_unsigned(), what = "whole number of at least 0";
    } else if constexpr (std::is_integral_v<T>) {
        fits = found->is_number_integer(), what = "whole number";
    } else {
        static_assert(std::is_floating_point_v<T>, "json_field reads strings, booleans and numbers");
        fits = found->is_number(), what = "number";
    }
    if (!fits) throw Error(kind, name + " is not a " + what + ": " + found->dump().substr(0, 40));
    return found->template get<T>();
}

}  // namespace lara::core
