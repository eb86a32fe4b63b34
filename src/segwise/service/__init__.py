"""The use cases, one function each; the CLI, the API and the dashboard only call these.

Names load on first use, so ``segwise rfm`` does not pay for scikit-learn at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from segwise.engines.result import RfmResult as RfmResult
    from segwise.features.outcomes import looks_like_outcome as looks_like_outcome
    from segwise.features.rfm import RfmOptions as RfmOptions
    from segwise.io.validate import REASONS as REASONS
    from segwise.io.writers import (
        check_output_path as check_output_path,
        write_frame as write_frame,
    )
    from segwise.predict.target import TargetReport as TargetReport
    from segwise.segment.pipeline import Segmentation as Segmentation
    from segwise.segment.uplift import Uplift as Uplift
    from segwise.service.access import (
        KeyInfo as KeyInfo,
        UserInfo as UserInfo,
        add_user as add_user,
        check_role as check_role,
        create_key as create_key,
        disable_user as disable_user,
        has_accounts as has_accounts,
        key_actor as key_actor,
        list_keys as list_keys,
        list_users as list_users,
        reset_password as reset_password,
        revoke_key as revoke_key,
        sign_in as sign_in,
        whoami as whoami,
    )
    from segwise.service.alerts import (
        AlertInfo as AlertInfo,
        list_alerts as list_alerts,
    )
    from segwise.service.audit import (
        Actor as Actor,
        AuditEntry as AuditEntry,
        acting_as as acting_as,
        allowed as allowed,
        audit_events as audit_events,
        current_actor as current_actor,
        record_event as record_event,
        require as require,
        set_actor as set_actor,
    )
    from segwise.service.background import (
        BackgroundRuns as BackgroundRuns,
        RunStage as RunStage,
        cancel_run as cancel_run,
    )
    from segwise.service.campaigns import (
        AudienceExport as AudienceExport,
        CampaignInfo as CampaignInfo,
        campaign_audience as campaign_audience,
        create_campaign as create_campaign,
        export_audience as export_audience,
        get_campaign as get_campaign,
        list_campaigns as list_campaigns,
        read_contacts as read_contacts,
    )
    from segwise.service.compare import compare_runs as compare_runs
    from segwise.service.datasets import (
        DatasetInfo as DatasetInfo,
        FilePreview as FilePreview,
        dataset_file as dataset_file,
        ingest as ingest,
        list_datasets as list_datasets,
        preview_file as preview_file,
    )
    from segwise.service.demo import (
        DemoRun as DemoRun,
        run_demo as run_demo,
    )
    from segwise.service.erasure import (
        ErasureReport as ErasureReport,
        customer_ref as customer_ref,
        forget_customer as forget_customer,
    )
    from segwise.service.exports import table_bytes as table_bytes
    from segwise.service.lookup import lookup_customer as lookup_customer
    from segwise.service.predict import (
        Predictor as Predictor,
        predict_file as predict_file,
        save_segment_model as save_segment_model,
        save_target_model as save_target_model,
        target_predictions as target_predictions,
        train_segment_model as train_segment_model,
        train_target_model as train_target_model,
    )
    from segwise.service.profiles import overall_profile as overall_profile
    from segwise.service.readout import (
        CampaignReport as CampaignReport,
        campaign_report as campaign_report,
    )
    from segwise.service.results import (
        copy_run_model as copy_run_model,
        get_run as get_run,
        list_runs as list_runs,
        read_assignments as read_assignments,
        run_files as run_files,
        run_predictor as run_predictor,
        run_segments as run_segments,
    )
    from segwise.service.retention import (
        RetentionReport as RetentionReport,
        retention_at_start as retention_at_start,
        run_retention as run_retention,
    )
    from segwise.service.rfm import (
        compute_rfm as compute_rfm,
        load_grid as load_grid,
        parse_as_of as parse_as_of,
    )
    from segwise.service.runs import (
        RunInfo as RunInfo,
        execute_run as execute_run,
        run_segment as run_segment,
        start_run as start_run,
    )
    from segwise.service.schedules import (
        ScheduleInfo as ScheduleInfo,
        ScheduleOutcome as ScheduleOutcome,
        add_schedule as add_schedule,
        list_schedules as list_schedules,
        remove_schedule as remove_schedule,
        run_due as run_due,
    )
    from segwise.service.segments import (
        SegmentOptions as SegmentOptions,
        segment as segment,
    )
    from segwise.service.sources import (
        describe_input as describe_input,
        ingest_input as ingest_input,
        is_database_input as is_database_input,
        local_input as local_input,
        needs_assembling as needs_assembling,
    )
    from segwise.service.standing import segment_standing as segment_standing
    from segwise.service.value import (
        CustomerValue as CustomerValue,
        ValueOptions as ValueOptions,
        compute_value as compute_value,
        value_options as value_options,
    )
    from segwise.service.value_runs import run_value as run_value

_HOME = {
    "ingest": "segwise.service.datasets",
    "list_datasets": "segwise.service.datasets",
    "DatasetInfo": "segwise.service.datasets",
    "FilePreview": "segwise.service.datasets",
    "dataset_file": "segwise.service.datasets",
    "preview_file": "segwise.service.datasets",
    "RunInfo": "segwise.service.runs",
    "start_run": "segwise.service.runs",
    "execute_run": "segwise.service.runs",
    "run_segment": "segwise.service.runs",
    "BackgroundRuns": "segwise.service.background",
    "RunStage": "segwise.service.background",
    "cancel_run": "segwise.service.background",
    "get_run": "segwise.service.results",
    "list_runs": "segwise.service.results",
    "run_segments": "segwise.service.results",
    "run_files": "segwise.service.results",
    "read_assignments": "segwise.service.results",
    "copy_run_model": "segwise.service.results",
    "run_predictor": "segwise.service.results",
    "compare_runs": "segwise.service.compare",
    "lookup_customer": "segwise.service.lookup",
    "RfmOptions": "segwise.features.rfm",
    "RfmResult": "segwise.engines.result",
    "Predictor": "segwise.service.predict",
    "predict_file": "segwise.service.predict",
    "save_segment_model": "segwise.service.predict",
    "save_target_model": "segwise.service.predict",
    "train_segment_model": "segwise.service.predict",
    "train_target_model": "segwise.service.predict",
    "target_predictions": "segwise.service.predict",
    "compute_rfm": "segwise.service.rfm",
    "load_grid": "segwise.service.rfm",
    "parse_as_of": "segwise.service.rfm",
    "run_demo": "segwise.service.demo",
    "DemoRun": "segwise.service.demo",
    "SegmentOptions": "segwise.service.segments",
    "segment": "segwise.service.segments",
    "REASONS": "segwise.io.validate",
    "looks_like_outcome": "segwise.features.outcomes",
    "check_output_path": "segwise.io.writers",
    "write_frame": "segwise.io.writers",
    "Segmentation": "segwise.segment.pipeline",
    "TargetReport": "segwise.predict.target",
    "table_bytes": "segwise.service.exports",
    "overall_profile": "segwise.service.profiles",
    "local_input": "segwise.service.sources",
    "describe_input": "segwise.service.sources",
    "ingest_input": "segwise.service.sources",
    "is_database_input": "segwise.service.sources",
    "needs_assembling": "segwise.service.sources",
    "segment_standing": "segwise.service.standing",
    "CustomerValue": "segwise.service.value",
    "run_value": "segwise.service.value_runs",
    "ValueOptions": "segwise.service.value",
    "compute_value": "segwise.service.value",
    "value_options": "segwise.service.value",
    # campaigns
    "CampaignInfo": "segwise.service.campaigns",
    "AudienceExport": "segwise.service.campaigns",
    "create_campaign": "segwise.service.campaigns",
    "list_campaigns": "segwise.service.campaigns",
    "read_contacts": "segwise.service.campaigns",
    "get_campaign": "segwise.service.campaigns",
    "campaign_audience": "segwise.service.campaigns",
    "export_audience": "segwise.service.campaigns",
    "CampaignReport": "segwise.service.readout",
    "campaign_report": "segwise.service.readout",
    "Uplift": "segwise.segment.uplift",
    "RetentionReport": "segwise.service.retention",
    "retention_at_start": "segwise.service.retention",
    "run_retention": "segwise.service.retention",
    "ErasureReport": "segwise.service.erasure",
    "customer_ref": "segwise.service.erasure",
    "forget_customer": "segwise.service.erasure",
    "Actor": "segwise.service.audit",
    "AuditEntry": "segwise.service.audit",
    "acting_as": "segwise.service.audit",
    "allowed": "segwise.service.audit",
    "audit_events": "segwise.service.audit",
    "current_actor": "segwise.service.audit",
    "record_event": "segwise.service.audit",
    "require": "segwise.service.audit",
    "set_actor": "segwise.service.audit",
    "KeyInfo": "segwise.service.access",
    "UserInfo": "segwise.service.access",
    "add_user": "segwise.service.access",
    "check_role": "segwise.service.access",
    "create_key": "segwise.service.access",
    "disable_user": "segwise.service.access",
    "has_accounts": "segwise.service.access",
    "key_actor": "segwise.service.access",
    "list_keys": "segwise.service.access",
    "list_users": "segwise.service.access",
    "reset_password": "segwise.service.access",
    "revoke_key": "segwise.service.access",
    "sign_in": "segwise.service.access",
    "whoami": "segwise.service.access",
    # schedules and alerts
    "AlertInfo": "segwise.service.alerts",
    "list_alerts": "segwise.service.alerts",
    "ScheduleInfo": "segwise.service.schedules",
    "ScheduleOutcome": "segwise.service.schedules",
    "add_schedule": "segwise.service.schedules",
    "list_schedules": "segwise.service.schedules",
    "remove_schedule": "segwise.service.schedules",
    "run_due": "segwise.service.schedules",
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'segwise.service' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)
