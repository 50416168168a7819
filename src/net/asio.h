#pragma once

// Boost.Asio and Boost.Beast as the net module uses them. Include this rather than the Boost
// headers: Boost 1.74's <boost/asio/awaitable.hpp> uses std::exchange without including
// <utility>, so <utility> has to come first.

#include <utility>

// The comment above the Boost headers keeps clang-format from sorting them before <utility>.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
