// The compiled part of Asio's SSL support. runbot_beast (bot/server/)
// compiles the rest of Asio and Beast once for the whole program
// (BOOST_ASIO_SEPARATE_COMPILATION), and has no SSL: the bridge is the
// first client that needs it.
#include <boost/asio/ssl/impl/src.hpp>
