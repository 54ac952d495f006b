/* test_queue.c - the FIFO: order, taking one or all, moving one queue
 * behind another. */
#include "test.h"

#include "common/queue.h"

typedef struct {
    int v;
    queue_node_t node;
} item_t;

TEST(queue_keeps_arrival_order)
{
    item_t items[4] = {{.v = 1}, {.v = 2}, {.v = 3}, {.v = 4}};
    queue_t q, r;
    queue_node_t *n;

    queue_init(&q);
    queue_init(&r);
    CHECK(queue_pop(&q) == NULL);
    for (int i = 0; i < 2; i++)
        queue_push(&q, &items[i].node);
    for (int i = 2; i < 4; i++)
        queue_push(&r, &items[i].node);
    CHECK_EQ_INT(q.n, 2);
    queue_move(&q, &r);
    CHECK_EQ_INT(q.n, 4);
    CHECK_EQ_INT(r.n, 0);
    CHECK(r.head == NULL && r.tail == NULL);
    queue_move(&q, &r); /* an empty one: nothing */
    for (int want = 1; want <= 4; want++) {
        REQUIRE((n = queue_pop(&q)) != NULL);
        CHECK_EQ_INT(QUEUE_ENTRY(n, item_t, node)->v, want);
    }
    CHECK(queue_pop(&q) == NULL);
    CHECK(q.tail == NULL);
    queue_push(&q, &items[0].node); /* usable again once empty */
    CHECK(queue_pop(&q) == &items[0].node);
}
