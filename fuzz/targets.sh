# The fuzz targets and the libFuzzer flags each runs with (sourced by fuzz/ci and fuzz/plateau).
# shellcheck shell=bash
# shellcheck disable=SC2034  # used by the scripts that source this file
TARGETS=(jsonrpc_line mcp_session intent structure event_frames ll_reply config)

target_flags() {
    case "$1" in
        jsonrpc_line | mcp_session) echo "-dict=dict/jsonrpc.dict" ;;
        structure) echo "-dict=dict/structure.dict -max_len=65536" ;;
        ll_reply) echo "-dict=dict/ll.dict" ;;
        config) echo "-dict=dict/config.dict" ;;
        *) echo "" ;;
    esac
}
