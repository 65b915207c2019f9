"""Local executor for the Cloud Workflows files in `workflows/` (local mode only)."""
from avp.local.workflows.connectors import CloudRunJobConnector, FirestoreEmulatorConnector, default_connectors
from avp.local.workflows.errors import DefinitionError, ExecutionCancelled, ExpressionSyntaxError, UnsupportedConstruct, WorkflowError
from avp.local.workflows.executions import Execution, ExecutionManager, State, UnknownExecution
from avp.local.workflows.interpreter import Interpreter
from avp.local.workflows.runtime import CallContext, Connector, Runtime

__all__ = [
    "CallContext",
    "CloudRunJobConnector",
    "Connector",
    "DefinitionError",
    "Execution",
    "ExecutionCancelled",
    "ExecutionManager",
    "ExpressionSyntaxError",
    "FirestoreEmulatorConnector",
    "Interpreter",
    "Runtime",
    "State",
    "UnknownExecution",
    "UnsupportedConstruct",
    "WorkflowError",
    "default_connectors",
]
