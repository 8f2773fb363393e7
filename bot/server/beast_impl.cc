// The compiled parts of Asio and Beast, built once for every file that
// includes bot/server/net.h (BOOST_*_SEPARATE_COMPILATION is set by CMake).
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
