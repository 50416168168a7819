#include "syntax/token.h"
