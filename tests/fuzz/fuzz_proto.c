/* fuzz_proto.c - the wire messages: every message a worker, a coordinator
 * or a client receives goes through proto_decode (worker messages) or
 * proto_decode_client (client messages) first, then its items are walked in
 * place. Properties: both decoders return OK or an error and never crash,
 * allocate nothing (they have no arena), and a message that decodes can be
 * walked to its end with every item inside the input. */
#include "fuzz.h"

#include "common/proto.h"
#include "common/proto_client.h"

static bool inside(const uint8_t *data, size_t size, const void *p, size_t len)
{
    const uint8_t *q = p;
    return len == 0 || (q >= data && q + len <= data + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    proto_msg_t m;
    st_err_t err = {0};
    uint32_t version, type;

    (void)proto_peek(data, size, &version, &type);
    if (proto_decode(data, size, &m, &err) == ST_OK) {
        proto_job_t job;
        proto_result_t res;
        size_t n = 0;
        while (proto_next_job(&m, &job) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, job.input.ptr, job.input.len));
        while (proto_next_result(&m, &res) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, res.data.ptr, res.data.len));
        FUZZ_ASSERT(n <= size);
    }
    if (proto_decode_client(data, size, &m, &err) == ST_OK) {
        proto_file_t file;
        proto_str_t s;
        uint32_t index;
        proto_blob_t blob;
        proto_fdiags_t fd;
        proto_diag_t d;
        proto_libmod_t lm;
        bool flag;
        size_t n = 0;
        while (proto_next_file(&m, &file) && n++ <= size)
            ;
        while (proto_next_root(&m, &s) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, s.ptr, s.len));
        while (proto_next_arg(&m, &s) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, s.ptr, s.len));
        while (proto_next_index(&m, &index) && n++ <= size)
            ;
        while (proto_next_blob(&m, &blob) && n++ <= size)
            ;
        while (proto_next_fdiags(&m, &fd) && n++ <= size)
            while (proto_next_diag(&fd, &d) && n++ <= size)
                ;
        while (proto_next_module(&m, &s) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, s.ptr, s.len) && s.len > 0);
        while (proto_next_top(&m, &s) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, s.ptr, s.len) && s.len > 0);
        while (proto_next_libmod(&m, &lm) && n++ <= size)
            FUZZ_ASSERT(inside(data, size, lm.path.ptr, lm.path.len) &&
                        (lm.kind == PROTO_LIB_FILE ? lm.path.len > 0 : lm.digest == NULL) &&
                        (lm.digest == NULL || inside(data, size, lm.digest, PROTO_DIGEST_LEN)));
        while (proto_next_stdlib(&m, &flag) && n++ <= size)
            ;
        if (m.has_env)
            FUZZ_ASSERT(inside(data, size, m.env.key.ptr, m.env.key.len) &&
                        m.env.platform.len <= PROTO_MAX_PLATFORM);
        FUZZ_ASSERT(n <= size);
    }
    return 0;
}
