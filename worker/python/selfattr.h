/* selfattr.h - E1101 for `self.x`, and E1120/E1121/E1123 for `self.m(...)`,
 * in the methods of a module's own classes.
 *
 * pylint's "Instance of 'C' has no 'x' member" where a method of class C
 * reads an attribute of its first parameter that neither C nor any of its
 * bases defines. The first form of the classes-and-instances checks: it
 * needs the file alone, so it runs in the scan, on the tree the checker
 * walked, and only where every fact is known; anything else says nothing:
 *
 *   - the class is defined at module level (directly or under a
 *     module-level if/try/with), without decorators, metaclass (but
 *     abc's ABCMeta) or other keywords, and each base is `object`
 *     or such a class defined before it in the same module, its name bound
 *     by that class statement alone with no star import in between (a
 *     base from elsewhere, Generic[T], NamedTuple, Enum, Protocol...:
 *     unknown); the class's own name may be bound again later (a Python
 *     fallback a C accelerator's star import replaces): its methods still
 *     see self as an instance of it;
 *   - no class of its bases or of its same-module subclasses defines
 *     __getattr__ or __getattribute__, calls setattr or vars on an
 *     instance, runs exec or eval in a method's own namespace, does more
 *     with a __dict__ than read it (dict_read), or declares __slots__
 *     other than literal names; its name does not say it is a mixin
 *     (pylint's ignore-mixin-members);
 *   - members: every name bound in the class body (defs, assignments,
 *     annotations, imports, loops), __slots__' names, and every
 *     attribute of the first parameter stored (assigned, deleted, a
 *     loop or with target; not `self.x += 1`, which reads x first) in
 *     any method of the class, its
 *     bases or its same-module subclasses (a mixin's attribute that only
 *     a subclass sets is no alarm); a name stored as an attribute of
 *     anything anywhere in the module (`obj.x = 1`) is never reported;
 *   - reads are checked only in plain methods and properties (a
 *     staticmethod, a classmethod or another decorator: unknown), whose
 *     first parameter is never rebound nor shadowed by a nested scope,
 *     and which call no hasattr/getattr on it; not inside the body of a
 *     try catching AttributeError (nor Exception, BaseException or
 *     everything);
 *   - a class with a method raising NotImplementedError (or an
 *     abstractmethod) is completed by subclasses anywhere: a missing
 *     attribute it reads is not reported, a missing method it calls is;
 *   - dunder and private (`__x`) names are never reported.
 *
 * A call `self.m(...)` of a member is checked against the defs it may
 * run, as pylint's E1121/E1123/E1120 "... in method call": m is an
 * undecorated def directly in the body of the class or of one of its
 * bases, the only binding of m there, in the class of them that derives
 * from every other one binding m (first in any MRO; two unrelated ones:
 * C3 decides, not checked), and every same-module subclass that binds m again does so with such a
 * def; the call is reported when every one of those defs rejects it the
 * same way, none a placeholder (docstring, pass, ..., raise
 * NotImplementedError), and it unpacks nothing (*a, **k). A keyword
 * naming a positional-only parameter and a missing keyword-only one are
 * other codes of pylint's: not reported. These need the classes' defs
 * only (known classes), not that nothing else adds members (eligible): a
 * __getattr__, setattr or __dict__ does not change a def.
 *
 * A call `C(...)` of a known class C is checked the same way against the
 * __init__ it runs ("... in constructor call"), when no identifier of the
 * module binds the name C but C's class statement (a parameter, a local,
 * an import, a pattern: the call might not be the class's) and no star
 * import follows the class, and the
 * __init__ is C's own or the first along a chain of single known bases,
 * none binding __new__, itself an undecorated def; none before object: not
 * checked.
 *
 * `x = C(...)` makes x an instance of exactly C when C is a known class
 * named by its class statement alone, eligible, and no class of C and its
 * bases binds __new__. When every binding of x in its function (nested
 * scopes included) or, at module level, in the module (not a builtin's
 * name, no star import, no globals/vars/locals/exec) is such an
 * assignment, x's type set is the union of their classes (common/typeset):
 * a read in that scope is E1101 when no class of the set nor its bases
 * has the name, a call x.m(...) is checked as self.m(...) calls are
 * against each class, reported when all say the same; not when hasattr, getattr,
 * setattr, delattr, isinstance or vars is called on x there, its
 * __class__ assigned or its __dict__ used otherwise than read; no E1101
 * in the body of a try catching AttributeError, none for a name setattr is given
 * as a literal; in a module calling setattr with a computed name, none
 * for an instance other code sees (x read as itself, or self passed to a
 * call by a method of its class or bases, but to a builtin that only
 * looks at it).
 *
 * The scan applies `# noqa` and the pragmas the summary records
 * (`# pylint: disable=no-member`, `# type: ignore`...) to these reports as
 * to the others. Nothing recurses over the tree: explicit stacks, bounded
 * by the tree's size. */
#ifndef STRATA_SELFATTR_H
#define STRATA_SELFATTR_H

#include "common/arena.h"
#include "common/status.h"
#include "worker/python/diag.h"
#include "worker/python/lang.h"
#include "worker/python/summary.h"

#include <stdint.h>
#include <tree_sitter/api.h>

/* Adds the reports about self in the module at root (its source src,
 * parsed without errors) to d, and, when sum is not NULL, what the check
 * job needs to settle the rest (summary.h: the classes' SEEN and OPEN
 * flags and attrs, "selfreads"). A stub (stub true) reports nothing: its
 * classes, whose members are their bodies' names, go to sum alone.
 * ST_ENOMEM when arena a is exhausted (d then has some of them). */
st_rc_t selfattr_check(const lang_t *L, TSNode root, const char *src, bool stub, arena_t *a,
                       diag_list_t *d, summary_t *sum);

#endif
