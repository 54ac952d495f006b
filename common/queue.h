/* queue.h - the one FIFO of the tree: an intrusive singly-linked queue.
 *
 * Messages between threads (a daemon's outbox and a batch's inbox, a back
 * end's results, the calls waiting for the dispatcher) are queued in
 * arrival order and taken one at a time or all at once. The node is a
 * member of the caller's struct (no allocation here, so pushing cannot
 * fail), and the queue takes no lock: its owner guards it with the lock
 * that guards the rest of what it shares. */
#ifndef STRATA_COMMON_QUEUE_H
#define STRATA_COMMON_QUEUE_H

#include <stddef.h>

typedef struct queue_node {
    struct queue_node *next;
} queue_node_t;

typedef struct {
    queue_node_t *head, *tail;
    size_t n;
} queue_t;

/* The struct of type that holds node (a queue_node_t member named member). */
#define QUEUE_ENTRY(node, type, member) ((type *)(void *)((char *)(node)-offsetof(type, member)))

static inline void queue_init(queue_t *q)
{
    q->head = q->tail = NULL;
    q->n = 0;
}

/* Appends node (not in any queue). */
static inline void queue_push(queue_t *q, queue_node_t *node)
{
    node->next = NULL;
    if (q->tail != NULL)
        q->tail->next = node;
    else
        q->head = node;
    q->tail = node;
    q->n++;
}

/* The first node, taken out; NULL when empty. */
static inline queue_node_t *queue_pop(queue_t *q)
{
    queue_node_t *node = q->head;

    if (node == NULL)
        return NULL;
    q->head = node->next;
    if (q->head == NULL)
        q->tail = NULL;
    q->n--;
    node->next = NULL;
    return node;
}

/* Moves every node of from to the end of to (from is left empty). */
static inline void queue_move(queue_t *to, queue_t *from)
{
    if (from->head == NULL)
        return;
    if (to->tail != NULL)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->n += from->n;
    queue_init(from);
}

#endif
