from typing import TYPE_CHECKING

import m

if TYPE_CHECKING:
    from m import OnlyForTypes  # never runs: no E0611, as pylint
from m import Missing  # noqa: E0611
from m import Gone

m.x  # pylint: disable=no-member
# pylint: disable-next=E1101
m.y
m.z  # pylint: disable=unused-import
m.f(1, 2)  # pylint: disable = too-many-function-args


def g():
    # pylint: disable=no-member
    m.q
    m.f(1, 2)
    m.r


m.s
