"""The one migration step of a deploy: a CloudFormation custom resource (Lambda, through the CDK's
custom-resource provider) that runs the image's `manage.py migrate` as an ECS task and waits
for it.

CloudFormation updates the resource when its task definition changes (a new image or new
settings), so each deploy that brings new code migrates once, before the web and worker services
roll out (they depend on it). A migration that fails fails the deploy, and CloudFormation rolls
everything back to the running version; Django migrations only add, so the old code keeps
working on the schema it finds.

on_event starts the task; is_complete is polled until the task has stopped.
"""

import functools

import boto3


@functools.cache
def ecs():
    return boto3.client("ecs")


def on_event(event: dict, context) -> dict:
    physical_id = event.get("PhysicalResourceId") or "migrations"
    if event["RequestType"] == "Delete":
        return {"PhysicalResourceId": physical_id}
    props = event["ResourceProperties"]
    answer = ecs().run_task(
        cluster=props["Cluster"],
        taskDefinition=props["TaskDefinition"],
        launchType="FARGATE",
        count=1,
        startedBy="videoshare-migrations",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": props["Subnets"],
                "securityGroups": props["SecurityGroups"],
                "assignPublicIp": "DISABLED",
            }
        },
    )
    if answer.get("failures") or not answer.get("tasks"):
        raise RuntimeError(f"the migration task did not start: {answer.get('failures')}")
    return {"PhysicalResourceId": physical_id, "Data": {"TaskArn": answer["tasks"][0]["taskArn"]}}


def is_complete(event: dict, context) -> dict:
    if event["RequestType"] == "Delete":
        return {"IsComplete": True}
    props = event["ResourceProperties"]
    answer = ecs().describe_tasks(cluster=props["Cluster"], tasks=[event["Data"]["TaskArn"]])
    return {"IsComplete": task_finished(answer["tasks"][0], container=props["Container"])}


def task_finished(task: dict, *, container: str) -> bool:
    """False while the task runs; True once its container exited 0; else an error that says
    why, for the CloudFormation event (the task's log has the rest)."""
    if task.get("lastStatus") != "STOPPED":
        return False
    exits = [item for item in task.get("containers", []) if item.get("name") == container]
    code = exits[0].get("exitCode") if exits else None
    if code == 0:
        return True
    reason = exits[0].get("reason") if exits else None
    raise RuntimeError(
        f"migrations failed: exit code {code}, {reason or task.get('stoppedReason')}; "
        f"see the log stream of task {task.get('taskArn')}"
    )
