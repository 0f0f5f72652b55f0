"""Every operation of botocore's `events` service model is implemented: each is called through
boto3 with the smallest input the model allows, and none may answer UnknownOperationException
(nor a 5xx). The answer may well be an error (a made-up name does not exist): that it is an
EventBridge answer is what counts."""
import datetime

import botocore.exceptions
import botocore.session

from lbharness import DaemonTestCase

ClientError = botocore.exceptions.ClientError

def minimal(shape, depth=0):
    """The smallest value of a shape that botocore's own parameter validation accepts."""
    t = shape.type_name
    if t == "structure":
        if depth > 8:
            return {}
        return {name: minimal(shape.members[name], depth + 1) for name in shape.required_members}
    if t == "list":
        n = shape.metadata.get("min", 0)
        return [minimal(shape.member, depth + 1) for _ in range(n)]
    if t == "map":
        return {}
    if t == "string":
        if shape.enum:
            return shape.enum[0]
        return "a" * max(1, shape.metadata.get("min", 1))
    if t in ("integer", "long"):
        return max(1, shape.metadata.get("min", 1))
    if t in ("double", "float"):
        return 1.0
    if t == "boolean":
        return False
    if t == "timestamp":
        return datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    if t == "blob":
        return b"a"
    return None


class ApiCoverage(DaemonTestCase):
    def test_no_operation_is_unknown(self):
        model = botocore.session.get_session().get_service_model("events")
        self.assertGreaterEqual(len(model.operation_names), 50)
        missing = []
        for op in model.operation_names:
            om = model.operation_model(op)
            params = minimal(om.input_shape) if om.input_shape else {}
            method = getattr(self.events_client, botocore.xform_name(op))
            try:
                r = method(**params)
                status, code = r["ResponseMetadata"]["HTTPStatusCode"], None
            except ClientError as e:
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                code = e.response["Error"]["Code"]
            with self.subTest(operation=op, params=params):
                self.assertNotEqual(code, "UnknownOperationException", op)
                self.assertLess(status, 500, (op, code))
            if code == "UnknownOperationException":
                missing.append(op)
        self.assertEqual(missing, [])

    def test_unknown_operation_still_unknown(self):
        status, r, _ = self.daemon.api("NoSuchOperation", {})
        self.assertEqual((status, r["__type"]), (400, "UnknownOperationException"))
