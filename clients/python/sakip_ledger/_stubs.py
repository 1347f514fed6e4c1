"""Imports the generated protobuf and gRPC modules, with a clear message when
they have not been generated (clients/python/generate_stubs.sh OUT_DIR, then
put OUT_DIR on PYTHONPATH)."""

try:
    from ledger.v1 import event_pb2, ledger_pb2, ledger_pb2_grpc  # noqa: F401
    from sakip.v1 import (  # noqa: F401
        audit_service_pb2,
        audit_service_pb2_grpc,
        events_pb2,
        report_service_pb2,
        report_service_pb2_grpc,
    )
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "sakip_ledger needs the generated stubs of proto/ (ledger.v1, sakip.v1): run "
        "clients/python/generate_stubs.sh OUT_DIR and add OUT_DIR to PYTHONPATH, or build "
        "the CMake target python_stubs (build/clients/python/gen). Cause: " + str(error)
    ) from error
