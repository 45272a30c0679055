// Lets Boost.Test print queuectl enums in failure messages (the installed header, so that
// user tests of the storage contract print the same).
#pragma once

#include "queuectl/testing/printers.hpp"
