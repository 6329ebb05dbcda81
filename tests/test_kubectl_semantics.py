"""kubectl's own table tests, reproduced: rollout status (rollout_status_test.go) and the
revision choice of rollout undo (rollback.go deploymentRevision)."""

from __future__ import annotations

import pytest
from kubernetes.client import (
    V1Container,
    V1Deployment,
    V1DeploymentCondition,
    V1DeploymentSpec,
    V1DeploymentStatus,
    V1LabelSelector,
    V1ObjectMeta,
    V1PodSpec,
    V1PodTemplateSpec,
    V1ReplicaSet,
    V1ReplicaSetSpec,
)

from bot.targets import TargetError
from bot.targets.k8s_rollout import pick_revision
from bot.targets.kubernetes import rollout_status

TEMPLATE = V1PodTemplateSpec(spec=V1PodSpec(containers=[V1Container(name="app", image="a:1")]))


def deployment(
    generation: int,
    replicas: int,
    observed: int,
    total: int,
    updated: int,
    available: int,
    conditions: list[V1DeploymentCondition] | None = None,
) -> V1Deployment:
    return V1Deployment(
        metadata=V1ObjectMeta(name="foo", generation=generation),
        spec=V1DeploymentSpec(replicas=replicas, selector=V1LabelSelector(), template=TEMPLATE),
        status=V1DeploymentStatus(
            observed_generation=observed,
            replicas=total,
            updated_replicas=updated,
            available_replicas=available,
            conditions=conditions,
        ),
    )


# (generation, spec replicas, observed generation, replicas, updated, available) -> message, done
WAITING = 'Waiting for deployment "foo" rollout to finish: '
CASES = [
    (
        (0, 1, 1, 1, 0, 1),
        WAITING + "0 out of 1 new replicas have been updated...",
        False,
    ),
    (
        (1, 1, 1, 2, 1, 2),
        'Waiting for deployment "foo" rollout to finish: 1 old replicas are pending termination...',
        False,
    ),
    (
        (1, 2, 1, 2, 2, 1),
        'Waiting for deployment "foo" rollout to finish: 1 of 2 updated replicas are available...',
        False,
    ),
    ((1, 2, 1, 2, 2, 2), 'deployment "foo" successfully rolled out', True),
    ((2, 2, 1, 2, 2, 2), "Waiting for deployment spec update to be observed...", False),
]


@pytest.mark.parametrize("fields,message,done", CASES)
def test_rollout_status_matches_kubectl(fields, message, done) -> None:
    got_message, got_done, failed = rollout_status(deployment(*fields))
    assert (got_message, got_done, failed) == (message, done, False)


def test_progress_deadline_exceeded_is_a_failure() -> None:
    cond = V1DeploymentCondition(
        type="Progressing", status="False", reason="ProgressDeadlineExceeded"
    )
    message, done, failed = rollout_status(deployment(1, 2, 1, 2, 1, 1, [cond]))
    assert failed and not done and message == 'deployment "foo" exceeded its progress deadline'


def rs(revision: int | str | None, name: str = "") -> V1ReplicaSet:
    ann = {"deployment.kubernetes.io/revision": str(revision)} if revision is not None else {}
    return V1ReplicaSet(
        metadata=V1ObjectMeta(name=name or f"foo-{revision}", annotations=ann),
        spec=V1ReplicaSetSpec(selector=V1LabelSelector(), template=TEMPLATE),
    )


def test_undo_picks_the_second_newest_revision_whatever_the_order() -> None:
    dep = deployment(1, 1, 1, 1, 1, 1)
    sets = [rs(2), rs(5), rs(3), rs(4)]
    assert pick_revision(dep, sets, 0).metadata.name == "foo-4"


def test_undo_to_a_given_revision_and_a_missing_one() -> None:
    dep = deployment(1, 1, 1, 1, 1, 1)
    sets = [rs(1), rs(2), rs(3)]
    assert pick_revision(dep, sets, 1).metadata.name == "foo-1"
    with pytest.raises(TargetError, match="Unable to find revision 7"):
        pick_revision(dep, sets, 7)


def test_undo_with_a_single_revision_has_no_history() -> None:
    with pytest.raises(TargetError, match="No rollout history found"):
        pick_revision(deployment(1, 1, 1, 1, 1, 1), [rs(1)], 0)


def test_a_replicaset_without_a_revision_annotation_is_revision_zero() -> None:
    # deploymentutil.Revision() returns 0, nil for a missing annotation: kubectl counts it.
    dep = deployment(1, 1, 1, 1, 1, 1)
    assert pick_revision(dep, [rs(None), rs(3), rs(2)], 0).metadata.name == "foo-2"
    assert pick_revision(dep, [rs(None), rs(3)], 0).metadata.name == "foo-None"
    assert pick_revision(dep, [rs(3), rs(None)], 0).metadata.name == "foo-None"


def test_a_replicaset_with_an_unreadable_revision_is_skipped() -> None:
    # strconv.ParseInt fails on it, so Revision() errors and deploymentRevision skips it.
    dep = deployment(1, 1, 1, 1, 1, 1)
    with pytest.raises(TargetError, match="No rollout history found"):
        pick_revision(dep, [rs("abc", "foo-x"), rs(3)], 0)
