//! [`TributaryCodec`]: how tributary's plan nodes cross to the workers, in
//! datafusion-distributed's plans: a table read ([`FragmentScanExec`]) or
//! a share of a job's batch ([`LoadFilesExec`]), each as its protobuf
//! message inside one envelope.

use std::sync::Arc;

use datafusion::common::{internal_err, DataFusionError, Result as DFResult};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use prost::Message;

use super::load::{LoadFilesExec, LoadProto};
use super::scan::{FragmentScanExec, ReadProto};
use crate::engine::Engine;
use crate::warehouse::Warehouse;

/// Encodes and decodes tributary's plan nodes for the workers; a decoded
/// read opens its table in `warehouse`, the decoding process's own, and a
/// decoded load runs in `engine`, a worker's.
#[derive(Debug)]
pub(crate) struct TributaryCodec {
    pub(crate) warehouse: Arc<Warehouse>,
    /// The worker's engine; `None` in a process that only sends plans.
    pub(crate) engine: Option<Engine>,
}

/// One of tributary's plan nodes as it crosses the network.
#[derive(Clone, PartialEq, prost::Message)]
struct NodeProto {
    #[prost(oneof = "Node", tags = "1, 2")]
    node: Option<Node>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Node {
    #[prost(message, tag = "1")]
    Read(ReadProto),
    #[prost(message, tag = "2")]
    Load(LoadProto),
}

impl PhysicalExtensionCodec for TributaryCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
    ) -> DFResult<Arc<dyn ExecutionPlan>> {
        if !inputs.is_empty() {
            return internal_err!(
                "tributary's plan nodes have no inputs, got {}",
                inputs.len()
            );
        }
        let proto = NodeProto::decode(buf)
            .map_err(|e| DataFusionError::Internal(format!("cannot decode a plan node: {e}")))?;
        match proto.node {
            Some(Node::Read(read)) => Ok(Arc::new(FragmentScanExec::from_proto(
                read,
                ctx,
                self.warehouse.clone(),
            )?)),
            Some(Node::Load(load)) => Ok(Arc::new(LoadFilesExec::from_proto(
                load,
                self.engine.clone(),
            )?)),
            None => internal_err!("a plan node came empty"),
        }
    }

    fn try_encode(&self, node: Arc<dyn ExecutionPlan>, buf: &mut Vec<u8>) -> DFResult<()> {
        let node = if let Some(scan) = node.downcast_ref::<FragmentScanExec>() {
            Node::Read(scan.to_proto()?)
        } else if let Some(load) = node.downcast_ref::<LoadFilesExec>() {
            Node::Load(load.to_proto()?)
        } else {
            return Err(DataFusionError::NotImplemented(format!(
                "{} cannot run on a worker",
                node.name()
            )));
        };
        NodeProto { node: Some(node) }
            .encode(buf)
            .map_err(|e| DataFusionError::Internal(format!("cannot encode a plan node: {e}")))
    }
}
