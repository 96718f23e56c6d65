//! The single-node broker: publishing is applying to this node's hub, in the caller's order.

use super::Broker;
use crate::fanout::envelope::Envelope;
use crate::fanout::hub::Hub;
use std::sync::Arc;

pub struct LocalBroker {
    hub: Arc<Hub>,
}

impl LocalBroker {
    pub fn new(hub: Arc<Hub>) -> Self {
        LocalBroker { hub }
    }
}

#[async_trait::async_trait]
impl Broker for LocalBroker {
    async fn publish(&self, envelope: Envelope) {
        self.hub.apply(&envelope);
    }
}
