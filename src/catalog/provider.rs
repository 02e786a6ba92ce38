//! The catalog as DataFusion sees it: one DataFusion catalog (`internal`, as
//! Doris names its own) whose schemas are the warehouse's databases.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider};
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result as DFResult};

use super::information_schema::{InformationSchema, INFORMATION_SCHEMA};
use super::{Catalog, LanceTable};

/// Name of the DataFusion catalog that holds the warehouse's databases.
pub const CATALOG_NAME: &str = "internal";

/// Exposes the warehouse's databases as DataFusion schemas, and
/// `information_schema` as a session's user sees it.
#[derive(Debug)]
pub struct WarehouseCatalogProvider {
    catalog: Arc<Catalog>,
    user: String,
}

impl WarehouseCatalogProvider {
    pub fn new(catalog: Arc<Catalog>, user: String) -> Self {
        Self { catalog, user }
    }
}

impl CatalogProvider for WarehouseCatalogProvider {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.catalog.database_names();
        names.push(INFORMATION_SCHEMA.to_string());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let name = name.to_lowercase();
        if name == INFORMATION_SCHEMA {
            return Some(Arc::new(InformationSchema::new(
                self.catalog.clone(),
                self.user.clone(),
            )));
        }
        self.catalog.database_exists(&name).then(|| {
            Arc::new(DatabaseSchemaProvider {
                catalog: self.catalog.clone(),
                database: name,
            }) as Arc<dyn SchemaProvider>
        })
    }
}

/// One database's tables, opened as [`LanceTable`]s on demand.
#[derive(Debug)]
struct DatabaseSchemaProvider {
    catalog: Arc<Catalog>,
    database: String,
}

#[async_trait]
impl SchemaProvider for DatabaseSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        self.catalog.table_names(&self.database).unwrap_or_default()
    }

    async fn table(&self, name: &str) -> DFResult<Option<Arc<dyn TableProvider>>> {
        let Ok(def) = self.catalog.table(&self.database, &name.to_lowercase()) else {
            return Ok(None);
        };
        let table = LanceTable::open(def, &self.catalog)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Some(Arc::new(table)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.catalog
            .table(&self.database, &name.to_lowercase())
            .is_ok()
    }
}
